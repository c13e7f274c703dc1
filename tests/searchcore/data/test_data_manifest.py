"""CSV manifests: path,label[,split] with optional header, AutoML ML_USE values and order."""

from __future__ import annotations

import pytest

from searchcore.data import DatasetError, inspect_image_archive, load_image_dataset


def images(image_bytes, n: int, folder: str = "img") -> dict[str, bytes]:
    return {f"{folder}/{i:03d}.png": image_bytes(size=(8, 8), seed=i) for i in range(n)}


def totals(report) -> dict[str, int]:
    return {split: sum(per_class.values()) for split, per_class in report.split_counts.items()}


def test_manifest_with_header_and_split_column_keeps_the_given_splits(make_zip, image_bytes):
    files = images(image_bytes, 12)
    splits = ["TRAIN"] * 6 + ["validation", "Valid", "VAL", "test", "TEST", "Test"]
    rows = ["path,label,split"] + [
        f"img/{i:03d}.png,{'cat' if i % 2 else 'dog'},{s}" for i, s in enumerate(splits)
    ]
    files["labels.csv"] = "\n".join(rows).encode()
    ds = load_image_dataset(make_zip(files))
    assert ds.report.layout == "manifest"
    assert ds.class_names == ["cat", "dog"]
    assert totals(ds.report) == {"train": 6, "valid": 3, "test": 3}
    # the valid rows are images 6, 7, 8: labels dog, cat, dog
    assert ds.report.split_counts["valid"] == {"cat": 1, "dog": 2}
    assert ds.valid.labels.tolist().count(0) == 1


def test_manifest_without_header_or_split_is_split_stratified(make_zip, image_bytes):
    files = images(image_bytes, 20)
    files["manifest.csv"] = "\n".join(f"img/{i:03d}.png,{'ab'[i % 2]}" for i in range(20)).encode()
    report = inspect_image_archive(make_zip(files))
    assert report.counts == {"a": 10, "b": 10}
    assert report.split_counts == {
        "train": {"a": 8, "b": 8},
        "valid": {"a": 1, "b": 1},
        "test": {"a": 1, "b": 1},
    }
    assert report.skipped == []


def test_automl_column_order_and_uris_are_understood(make_zip, image_bytes):
    files = images(image_bytes, 9, folder="photos")
    ml_use = ["TRAIN"] * 5 + ["UNASSIGNED", "VALIDATION", "TEST", ""]
    rows = [f"{u},gs://my-bucket/photos/{i:03d}.png,{'xy'[i % 2]}" for i, u in enumerate(ml_use)]
    files["automl.csv"] = "\r\n".join(rows).encode("utf-8-sig")
    report = inspect_image_archive(make_zip(files))
    assert report.counts == {"x": 5, "y": 4}
    assert report.skipped == []
    assert totals(report)["valid"] >= 1 and totals(report)["test"] >= 1


def test_bad_rows_are_reported_per_row(make_zip, image_bytes):
    files = images(image_bytes, 8) | {"img/readme.txt": b"hi"}
    rows = [f"img/{i:03d}.png,{'ab'[i % 2]},train" for i in range(6)]
    rows += [
        "img/006.png,a,holdout",
        "img/missing.png,b,test",
        "img/000.png,a,train",
        "img/readme.txt,a,train",
        "img/007.png,,train",
        "img/007.png,a,train,extra",
        "../etc/passwd,a,train",
    ]
    files["m.csv"] = "\n".join(rows).encode()
    report = inspect_image_archive(make_zip(files))
    got = {issue.path: issue.reason for issue in report.skipped}
    assert "unknown split value 'holdout'" in got["img/006.png"]
    assert got["img/missing.png"] == "listed in m.csv line 8 but not found in the zip"
    assert "listed twice" in got["img/000.png"]
    assert "not an image file" in got["img/readme.txt"]
    assert got["img/007.png"] == "no label (m.csv line 11)"
    assert "found 4 column(s)" in got["m.csv line 12"]
    assert "not found" in got["../etc/passwd"]
    assert any("2 image(s) in the zip are not listed in m.csv" in w for w in report.warnings)


def test_manifest_giving_only_train_rows_gets_valid_and_test_carved_out(make_zip, image_bytes):
    files = images(image_bytes, 20)
    files["m.csv"] = "\n".join(f"img/{i:03d}.png,{'ab'[i % 2]},TRAIN" for i in range(20)).encode()
    report = inspect_image_archive(make_zip(files))
    assert report.split_counts["valid"] == {"a": 1, "b": 1}
    assert report.split_counts["test"] == {"a": 1, "b": 1}
    assert any("gives no valid and test images" in w for w in report.warnings)


def test_semicolon_manifest_in_wrapping_folder(make_zip, image_bytes):
    files = {f"set/{k}": v for k, v in images(image_bytes, 6).items()}
    files["set/labels.csv"] = "\n".join(f"img/{i:03d}.png;{'ab'[i % 2]}" for i in range(6)).encode()
    assert inspect_image_archive(make_zip(files)).counts == {"a": 3, "b": 3}


def test_several_root_csvs_are_ambiguous(make_zip, image_bytes):
    files = images(image_bytes, 4) | {"a.csv": b"img/000.png,a", "b.csv": b"img/001.png,b"}
    with pytest.raises(DatasetError, match="several CSV files"):
        inspect_image_archive(make_zip(files))


def test_manifest_pointing_nowhere_is_a_clear_error(make_zip, image_bytes):
    files = images(image_bytes, 2) | {"m.csv": b"path,label\nnope/1.png,a\nnope/2.png,b\n"}
    with pytest.raises(DatasetError, match="no row of m.csv points to a usable image"):
        inspect_image_archive(make_zip(files))


def test_binary_manifest_is_a_clear_error(make_zip, image_bytes):
    files = images(image_bytes, 2) | {"m.csv": b"\xff\xfe\x00\x01binary"}
    with pytest.raises(DatasetError, match="not UTF-8"):
        inspect_image_archive(make_zip(files))
