from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.datasets.models import Dataset
from webapp.datasets.services import create_dataset
from worker.datasets import validate_dataset

pytestmark = pytest.mark.django_db
FIXTURE_ZIP = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


def _upload(user, name: str, content: bytes, filename: str = "data.zip") -> Dataset:
    return create_dataset(user, name, SimpleUploadedFile(filename, content))


def test_the_tiny_cifar_zip_becomes_ready_with_a_report_and_thumbnails(user, enqueued) -> None:
    dataset = _upload(user, "cifar", FIXTURE_ZIP.read_bytes())
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    assert (dataset.num_classes, dataset.num_images) == (10, 100)
    assert dataset.report["counts"]["cat"] == 10 and dataset.report["image_sizes"] == {"32x32": 100}
    thumbs = dataset.report["thumbnails"]
    assert len(thumbs) == 10 and all(len(names) == 4 for names in thumbs.values())
    first = dataset.thumbnails_dir / thumbs["airplane"][0]
    assert first.read_bytes().startswith(b"\x89PNG")
    assert validate_dataset(dataset.pk) is None  # already validated: nothing to do


def test_a_zip_with_one_class_fails_with_a_reason(user, enqueued) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(FIXTURE_ZIP) as src, zipfile.ZipFile(buffer, "w") as dst:
        for name in src.namelist():
            if name.startswith("cat/"):
                dst.writestr(name, src.read(name))
    dataset = _upload(user, "cats", buffer.getvalue())
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    dataset.refresh_from_db()
    assert "at least 2" in dataset.error


def test_a_zip_without_images_fails_with_the_libraries_message(user, enqueued) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "no images here")
    dataset = _upload(user, "empty", buffer.getvalue())
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    dataset.refresh_from_db()
    assert dataset.error and dataset.status == Dataset.FAILED


def test_a_vanished_file_fails_instead_of_crashing_the_worker(user, enqueued) -> None:
    dataset = _upload(user, "gone", FIXTURE_ZIP.read_bytes())
    shutil.rmtree(dataset.directory)
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    dataset.refresh_from_db()
    assert dataset.error


def test_a_text_corpus_is_validated(user, enqueued) -> None:
    text = "".join(f" line {i} of the corpus with words {i % 7} \n" for i in range(200)).encode()
    dataset = _upload(user, "corpus", text, filename="corpus.txt")
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    assert dataset.report["vocab_size"] > 5 and dataset.num_classes is None
