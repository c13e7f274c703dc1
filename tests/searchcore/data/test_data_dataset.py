"""load_image_dataset / inspect_image_archive on the committed fixture and on built zips."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from searchcore.data import DatasetError, DatasetReport, inspect_image_archive, load_image_dataset, thumbnails
from searchcore.spaces.base import TaskSpec

CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(scope="module")
def tiny(tiny_zip):
    """Decoded once per module: every test here only reads it."""
    return load_image_dataset(tiny_zip, seed=0)


def test_fixture_counts_classes_and_tensors(tiny):
    assert tiny.class_names == CIFAR
    assert tiny.task() == TaskSpec(in_channels=3, image_size=32, num_classes=10)
    assert (len(tiny.train), len(tiny.valid), len(tiny.test)) == (80, 10, 10)
    for split in (tiny.train, tiny.valid, tiny.test):
        assert split.images.dtype == torch.uint8 and split.images.shape[1:] == (3, 32, 32)
        assert split.labels.dtype == torch.int64
    assert tiny.report.counts == dict.fromkeys(CIFAR, 10)
    assert tiny.report.image_sizes == {"32x32": 100}
    assert tiny.report.warnings == [] and tiny.report.skipped == []


def test_split_is_stratified(tiny):
    for split, expected in ((tiny.train, 8), (tiny.valid, 1), (tiny.test, 1)):
        assert torch.bincount(split.labels, minlength=10).tolist() == [expected] * 10
    assert tiny.report.split_counts["valid"] == dict.fromkeys(CIFAR, 1)


def test_splits_are_disjoint_and_cover_the_zip(tiny):
    rows = torch.cat([tiny.train.images, tiny.valid.images, tiny.test.images]).flatten(1)
    assert torch.unique(rows, dim=0).shape[0] == 100


def test_same_seed_same_split_other_seed_other_split(tiny, tiny_zip):
    again = load_image_dataset(tiny_zip, seed=0)
    assert torch.equal(again.valid.images, tiny.valid.images)
    assert torch.equal(again.train.labels, tiny.train.labels)
    other = load_image_dataset(tiny_zip, seed=1)
    assert not torch.equal(other.valid.images, tiny.valid.images)


def test_normalisation_stats_are_the_train_splits(tiny):
    x = tiny.train.images.double() / 255
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3), unbiased=False)
    assert torch.allclose(torch.tensor(tiny.mean, dtype=torch.float64), mean, atol=1e-9)
    assert torch.allclose(torch.tensor(tiny.std, dtype=torch.float64), std, atol=1e-9)
    everything = torch.cat([tiny.train.images, tiny.valid.images, tiny.test.images]).double() / 255
    assert tiny.mean != tuple(everything.mean(dim=(0, 2, 3)).tolist())


def test_images_match_the_decoded_files(tiny, tiny_zip):
    with zipfile.ZipFile(tiny_zip) as zf:
        first = Image.open(io.BytesIO(zf.read("airplane/0033.png"))).convert("RGB")
    pixels = torch.from_numpy(np.array(first)).permute(2, 0, 1)
    pool = torch.cat([tiny.train.images, tiny.valid.images, tiny.test.images])
    assert (pool == pixels).flatten(1).all(dim=1).sum() == 1


def test_max_images_subsamples_stratified(tiny_zip):
    ds = load_image_dataset(tiny_zip, max_images=30)
    assert ds.report.counts == dict.fromkeys(CIFAR, 3)
    for split in (ds.train, ds.valid, ds.test):
        assert torch.bincount(split.labels, minlength=10).tolist() == [len(split) // 10] * 10


def test_inspect_gives_the_load_report(tiny, tiny_zip):
    assert inspect_image_archive(tiny_zip).to_dict() == tiny.report.to_dict()


def test_report_is_json_and_round_trips(make_zip, class_files):
    files = class_files({"a": 4, "b": 4}) | {"a/x.txt": b"x"}
    report = inspect_image_archive(make_zip(files))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["num_images"] == 8 and data["num_classes"] == 2
    assert data["skipped"] == [
        {"path": "a/x.txt", "reason": "not an image file (.txt)", "code": "not_image", "row": None}
    ]
    assert data["skipped_counts"] == {"not_image": 1} and data["skipped_total"] == 1
    assert DatasetReport.from_dict(data) == report


def test_health_warnings(make_zip, class_files):
    report = inspect_image_archive(
        make_zip(class_files({"big": 202, "mid": 12, "tiny": 2}, size=4)), image_size=4
    )
    text = "\n".join(report.warnings)
    assert "class 'tiny' has only 2 image(s) (fewer than 10)" in text
    assert "'big' has 202 images, 'tiny' has 2 (101x)" in text
    assert "class 'tiny' has only 2 image(s) to split; all of them went to train" in text
    assert "the valid split has no image of class(es) 'tiny'" in text
    assert "the test split has no image of class(es) 'tiny'" in text
    assert "'mid'" not in text and "different sizes" not in text
    assert report.split_counts["train"]["tiny"] == 2
    assert report.split_counts["valid"] == {"big": 20, "mid": 1, "tiny": 0}


def test_class_with_three_images_gets_one_per_split(make_zip, class_files):
    report = inspect_image_archive(make_zip(class_files({"a": 3, "b": 30})))
    assert {s: c["a"] for s, c in report.split_counts.items()} == {"train": 1, "valid": 1, "test": 1}


def test_custom_split_without_test(make_zip, class_files):
    ds = load_image_dataset(make_zip(class_files({"a": 10, "b": 10})), split=(0.7, 0.3, 0.0))
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (14, 6, 0)
    assert not any("test split" in w for w in ds.report.warnings)
    with pytest.raises(DatasetError, match="add up to 1"):
        load_image_dataset(make_zip(class_files({"a": 3, "b": 3})), split=(0.5, 0.1, 0.1))


def test_preprocessing_describes_inputs(tiny):
    pre = tiny.preprocessing()
    assert pre["image_size"] == 32 and pre["class_names"] == CIFAR
    assert pre["mean"] == list(tiny.mean) and json.dumps(pre)


def test_thumbnails_per_class(tiny_zip, make_zip, image_bytes):
    thumbs = thumbnails(tiny_zip, per_class=2, size=16)
    assert list(thumbs) == CIFAR and all(len(v) == 2 for v in thumbs.values())
    img = Image.open(io.BytesIO(thumbs["cat"][0]))
    assert img.format == "PNG" and img.size == (16, 16)
    files = {"a/1.png": image_bytes(size=(128, 64)), "a/2.png": b"broken", "a/3.png": image_bytes(seed=3)}
    files |= {"b/1.png": image_bytes(), "c/1.png": image_bytes(), "c/2.png": image_bytes(seed=2)}
    path = make_zip(files)
    thumbs = thumbnails(path, per_class=4, size=64)
    assert list(thumbs) == inspect_image_archive(path).class_names == ["a", "c"]
    assert len(thumbs["a"]) == 2 and Image.open(io.BytesIO(thumbs["a"][0])).size == (64, 32)
    assert [len(v) for v in thumbnails(path, per_class=1).values()] == [1, 1]
