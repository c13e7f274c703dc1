from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest


@pytest.fixture(autouse=True)
def _media(media_root: Path) -> Path:
    return media_root


TINY_ZIP = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


@pytest.fixture
def cpu_no_pushes(settings: Any) -> Any:
    """Runs on the CPU and without channel-layer pushes (the rows are what the tests read)."""
    settings.NAS_DEVICE = "cpu"
    with mock.patch("webapp.searches.realtime.publish"):
        yield


@pytest.fixture
def images(user: Any, settings: Any) -> Any:
    """A ready image dataset of the committed tiny CIFAR fixture, under MEDIA_ROOT."""
    from webapp.datasets.models import Dataset

    target = Path(settings.MEDIA_ROOT) / "datasets" / "tiny" / "cifar.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY_ZIP, target)
    return Dataset.objects.create(owner=user, name="cifar tiny", status=Dataset.READY, num_classes=10,
                                  num_images=100, file="datasets/tiny/cifar.zip")


@pytest.fixture
def when(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[Any], bool], Callable[[], None]], None]:
    """``when(matches, then)``: run ``then`` once, in the runner's own thread, right after the worker's
    sink stored the first event for which ``matches(event)`` holds. (A watcher thread polling the
    database raced the runner: the test database is SQLite in shared-cache memory mode, where a
    statement that meets another connection's open transaction fails at once with "table is locked",
    and the runner's event write was the one that failed.)"""
    from worker.sink import DbChannelSink

    real_emit = DbChannelSink.emit
    hooks: list[tuple[Callable[[Any], bool], Callable[[], None]]] = []

    def emit(self: Any, event: Any) -> None:
        real_emit(self, event)
        for hook in list(hooks):
            matches, then = hook
            if matches(event):
                hooks.remove(hook)
                then()

    monkeypatch.setattr(DbChannelSink, "emit", emit)
    return lambda matches, then: hooks.append((matches, then))


TEXT_CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"


@pytest.fixture
def corpus(user: Any, enqueued: Any) -> Any:
    """A text upload of the committed tiny WikiText-2 fixture, validated by the worker (ready)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from webapp.datasets.models import Dataset
    from webapp.datasets.services import create_dataset
    from worker.datasets import validate_dataset

    dataset = create_dataset(user, "wiki", SimpleUploadedFile("wiki.txt", TEXT_CORPUS.read_bytes()))
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    return dataset
