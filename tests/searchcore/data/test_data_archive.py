"""Zip handling of image uploads: layouts, OS litter, hostile names and sizes, bad files."""

from __future__ import annotations

import io
import zipfile

import pytest

from searchcore.data import ArchiveLimits, DatasetError, inspect_image_archive, load_image_dataset


def reasons(report) -> dict[str, str]:
    return {issue.path: issue.reason for issue in report.skipped}


def test_non_zip_upload_is_a_clear_error(tmp_path):
    path = tmp_path / "photos.zip"
    path.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(DatasetError, match="not a zip archive"):
        load_image_dataset(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        inspect_image_archive(tmp_path / "nope.zip")


def test_empty_zip_is_a_clear_error(make_zip):
    with pytest.raises(DatasetError, match="empty"):
        inspect_image_archive(make_zip({}))


def test_zip_of_only_os_litter_is_a_clear_error(make_zip):
    path = make_zip({"__MACOSX/._a.png": b"x", ".DS_Store": b"x", "Thumbs.db": b"x"})
    with pytest.raises(DatasetError, match="no usable files"):
        inspect_image_archive(path)


def test_files_without_class_folders_are_a_clear_error(make_zip, image_bytes):
    path = make_zip({"a.png": image_bytes(), "b.png": image_bytes(seed=1)})
    with pytest.raises(DatasetError, match="no class folders"):
        inspect_image_archive(path)


def test_single_class_folder_is_not_taken_for_a_wrapper(make_zip, class_files):
    with pytest.raises(DatasetError, match="only one class .'cat'."):
        inspect_image_archive(make_zip(class_files({"cat": 5})))


def test_os_litter_is_skipped_silently(make_zip, class_files, image_bytes):
    files = class_files({"cat": 3, "dog": 3})
    files |= {
        "__MACOSX/cat/._0000.png": b"\x00\x05\x16\x07",
        "cat/.DS_Store": b"junk",
        "dog/Thumbs.db": b"junk",
        ".hidden/x.png": image_bytes(),
        "dog/.x.png": image_bytes(),
    }
    report = inspect_image_archive(make_zip(files))
    assert report.skipped == []
    assert report.counts == {"cat": 3, "dog": 3}


def test_single_wrapping_folder_is_accepted(make_zip, class_files):
    files = class_files({"cat": 3, "dog": 4}, prefix="myset/") | {"myset/README.txt": b"hello"}
    ds = load_image_dataset(make_zip(files))
    assert ds.class_names == ["cat", "dog"]
    assert ds.report.counts == {"cat": 3, "dog": 4}
    assert reasons(ds.report) == {"myset/README.txt": "not inside a class folder"}


def test_subfolders_belong_to_their_class(make_zip, image_bytes):
    files = {f"cat/indoor/{i}.png": image_bytes(seed=i) for i in range(3)}
    files |= {f"dog/{i}.png": image_bytes(seed=10 + i) for i in range(3)}
    assert inspect_image_archive(make_zip(files)).counts == {"cat": 3, "dog": 3}


def test_zip_slip_names_are_refused_per_file(make_zip, class_files, image_bytes):
    files = class_files({"cat": 3, "dog": 3}) | {
        "../evil/x.png": image_bytes(),
        "/abs/cat/y.png": image_bytes(),
    }
    report = inspect_image_archive(make_zip(files))
    assert report.counts == {"cat": 3, "dog": 3}
    got = reasons(report)
    assert set(got) == {"../evil/x.png", "/abs/cat/y.png"}
    assert all("unsafe path" in r for r in got.values())


def test_zip_bomb_total_size_is_capped_before_reading(make_zip, class_files):
    files = class_files({"cat": 3, "dog": 3}) | {"cat/huge.png": b"\x00" * 2_000_000}
    path = make_zip(files)
    assert path.stat().st_size < 100_000  # it compresses away, as a bomb does
    with pytest.raises(DatasetError, match="would expand to .* more than the limit"):
        inspect_image_archive(path, limits=ArchiveLimits(max_total_bytes=1_000_000))


def test_oversized_entry_and_image_pixel_cap_skip_per_file(make_zip, class_files, image_bytes):
    files = class_files({"cat": 3, "dog": 3}, size=8)
    files |= {"cat/big.png": image_bytes(size=(40, 40)), "dog/blob.png": b"\x00" * 20_000}
    limits = ArchiveLimits(max_file_bytes=10_000, max_image_pixels=40 * 39)
    report = inspect_image_archive(make_zip(files), limits=limits)
    got = reasons(report)
    assert "40x40 pixels, more than the limit" in got["cat/big.png"]
    assert got["dog/blob.png"] == "file is 19.5 KiB, over the 9.8 KiB limit"
    assert report.counts == {"cat": 3, "dog": 3}


def test_bad_files_are_listed_not_raised(make_zip, class_files, image_bytes):
    good = image_bytes(size=(16, 16))
    files = class_files({"cat": 3, "dog": 3}) | {
        "cat/notes.txt": b"not an image",
        "cat/corrupt.png": b"\x89PNG garbage bytes",
        "dog/truncated.png": good[: len(good) // 2],
        "dog/fake.jpg": b"hello world",
    }
    ds = load_image_dataset(make_zip(files))
    got = reasons(ds.report)
    assert got["cat/notes.txt"] == "not an image file (.txt)"
    assert got["cat/corrupt.png"].startswith("not a readable image")
    assert got["dog/truncated.png"].startswith("unreadable image")
    assert got["dog/fake.jpg"].startswith("not a readable image")
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 6
    assert any("4 file(s) were skipped" in w for w in ds.report.warnings)


def test_class_with_one_image_is_left_out_with_a_reason(make_zip, class_files):
    ds = load_image_dataset(make_zip(class_files({"cat": 4, "dog": 4, "emu": 1})))
    assert ds.class_names == ["cat", "dog"]
    assert "only 1 readable image" in reasons(ds.report)["emu/0000.png"]


def test_class_emptied_by_bad_files_counts_as_too_small(make_zip, class_files):
    files = class_files({"cat": 4, "dog": 4}) | {"emu/a.png": b"bad", "emu/b.png": b"bad", "emu/c.png": b"x"}
    ds = load_image_dataset(make_zip(files))
    assert ds.class_names == ["cat", "dog"]


def test_encrypted_or_broken_member_is_a_per_file_issue(tmp_path, class_files):
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in class_files({"cat": 3, "dog": 3}).items():
            zf.writestr(name, data)
        zf.writestr("dog/victim.png", b"A" * 5000)
    raw = bytearray(path.read_bytes())
    # corrupt the deflated body of the last member (its local header comes last before the directory)
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo("dog/victim.png")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start : start + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(raw))
    report = inspect_image_archive(path)
    assert "dog/victim.png" in reasons(report)
    assert report.counts == {"cat": 3, "dog": 3}


def test_decoded_size_is_capped_before_allocating(make_zip, class_files):
    path = make_zip(class_files({"cat": 3, "dog": 3}))
    with pytest.raises(DatasetError, match="6 images at 64x64 would need 72.0 KiB"):
        load_image_dataset(path, image_size=64, limits=ArchiveLimits(max_decoded_bytes=50_000))
    assert inspect_image_archive(path, image_size=64, limits=ArchiveLimits(max_decoded_bytes=50_000)).counts
