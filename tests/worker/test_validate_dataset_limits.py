"""Issue 11 item 4 in the worker: caps and the time limit come from settings; a dataset that takes
too long fails with the reason (in-loop deadline, Celery's soft limit, or its hard limit)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings as django_settings
from PIL import Image

from webapp.datasets.models import Dataset
from worker import tasks
from worker.datasets import validate_dataset, validation_limits
from worker.validation_time import ValidationTask, hard_time_limit, soft_time_limit

pytestmark = pytest.mark.django_db
FIXTURE_ZIP = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


def _dataset(user: Any, build: Any) -> Dataset:
    """A ``validating`` dataset whose zip ``build(path)`` writes under MEDIA_ROOT."""
    dataset = Dataset.objects.create(owner=user, name="probe", file="placeholder")
    dataset.file.name = f"datasets/{dataset.pk}/data.zip"
    dataset.save(update_fields=["file"])
    dataset.path.parent.mkdir(parents=True)
    build(dataset.path)
    return dataset


def slow_zip(path: Path, count: int = 40) -> None:
    """Two classes of 6000x6000 images: each takes ~0.2-1 s to decode, the set many seconds."""
    buffer = io.BytesIO()
    Image.new("L", (6000, 6000), 90).save(buffer, "PNG", compress_level=9)
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(count):
            zf.writestr(f"{'ab'[i % 2]}/{i}.png", buffer.getvalue())


def test_a_validation_over_the_time_limit_fails_with_the_reason(user, settings) -> None:
    settings.DATASET_VALIDATION_SECONDS = 1
    dataset = _dataset(user, slow_zip)
    started = time.monotonic()
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    elapsed = time.monotonic() - started
    dataset.refresh_from_db()
    assert "took longer than the limit of 1 s (stopped while reading image" in dataset.error
    assert elapsed < 30  # stopped at the next image, not after all 40


def test_caps_come_from_settings(user, settings) -> None:
    settings.DATASET_MAX_MANIFEST_ROWS = 10
    settings.DATASET_REPORT_EXAMPLES = 3
    assert validation_limits().max_manifest_rows == 10 and validation_limits().report_examples == 3

    def manifest_zip(path: Path) -> None:
        with zipfile.ZipFile(FIXTURE_ZIP) as src, zipfile.ZipFile(path, "w") as dst:
            names = [n for n in src.namelist() if n.endswith(".png")]
            for name in names:
                dst.writestr(name, src.read(name))
            dst.writestr("m.csv", "\n".join(f"{n},{n.split('/')[0]}" for n in names))

    dataset = _dataset(user, manifest_zip)
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    dataset.refresh_from_db()
    assert dataset.error == ("the manifest m.csv has 100 rows, more than the limit of 10; "
                             "upload a smaller dataset")


def test_the_stored_report_is_bounded(user, settings) -> None:
    settings.DATASET_REPORT_EXAMPLES = 5

    def junk_zip(path: Path) -> None:
        with zipfile.ZipFile(FIXTURE_ZIP) as src, zipfile.ZipFile(path, "w") as dst:
            for name in src.namelist():
                dst.writestr(name, src.read(name))
            for i in range(5000):
                dst.writestr(f"cat/notes{i}.txt", b"")

    dataset = _dataset(user, junk_zip)
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    assert dataset.report["skipped_counts"] == {"not_image": 5000} and len(dataset.report["skipped"]) == 5
    assert len(json.dumps(dataset.report)) < 10_000


def test_celerys_soft_limit_fails_the_dataset(user, monkeypatch) -> None:
    """What the pool child raises at the soft limit (code outside the deadline's loops)."""
    def stuck(*_: Any, **__: Any) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("worker.datasets.inspect_image_archive", stuck)
    dataset = _dataset(user, lambda path: path.write_bytes(FIXTURE_ZIP.read_bytes()))
    assert validate_dataset(dataset.pk) == Dataset.FAILED
    dataset.refresh_from_db()
    limit = django_settings.DATASET_VALIDATION_SECONDS
    assert dataset.error.startswith(f"checking the dataset took longer than the limit of {limit} s")


def test_the_hard_limit_fails_a_dataset_still_validating_from_the_parent(user) -> None:
    validating = _dataset(user, lambda path: path.write_bytes(b""))
    done = Dataset.objects.create(owner=user, name="done", status=Dataset.READY)
    task = tasks.validate_dataset
    assert isinstance(task, ValidationTask)
    assert (task.soft_time_limit, task.time_limit) == (soft_time_limit(), hard_time_limit())
    assert soft_time_limit() > django_settings.DATASET_VALIDATION_SECONDS
    for dataset in (validating, done):
        task.on_failure(TimeLimitExceeded(hard_time_limit()), "task-id", [dataset.pk], {}, None)
    validating.refresh_from_db()
    done.refresh_from_db()
    assert validating.status == Dataset.FAILED and "took longer than the limit" in validating.error
    assert done.status == Dataset.READY and not done.error
