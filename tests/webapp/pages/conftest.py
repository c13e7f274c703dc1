"""Shared fixtures of the page tests: two users, a ready dataset, a search with stored events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from webapp.datasets.models import Dataset
from webapp.searches.models import Search, SearchEvent

CLASSES = ["airplane", "cat"]
REPORT = {
    "class_names": CLASSES,
    "counts": {"airplane": 10, "cat": 10},
    "split_counts": {"train": {"airplane": 8, "cat": 8}, "valid": {"airplane": 1, "cat": 1},
                     "test": {"airplane": 1, "cat": 1}},
    "image_sizes": {"32x32": 19, "40x30": 1},
    "skipped": [{"path": "cat/broken.png", "reason": "cannot identify image file"}],
    "warnings": ["class cat has only 10 images"],
}
MICRO_GRAPH = {"cells": [
    {"name": "normal", "nodes": [{"id": "c_k-2", "label": "c_{k-2}", "kind": "input"},
                                 {"id": "n2", "label": "sep3", "kind": "op"},
                                 {"id": "out", "label": "c_{k}", "kind": "output"}],
     "edges": [{"source": "c_k-2", "target": "n2", "label": "sep3"},
               {"source": "n2", "target": "out", "label": ""}]},
    {"name": "reduce", "nodes": [{"id": "c_k-1", "label": "c_{k-1}", "kind": "input"},
                                 {"id": "out", "label": "c_{k}", "kind": "output"}],
     "edges": [{"source": "c_k-1", "target": "out", "label": "max3"}]},
]}


@pytest.fixture(autouse=True)
def _media_and_queue(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    settings.MEDIA_ROOT = tmp_path / "media"
    sent: list[tuple] = []
    monkeypatch.setattr("webapp.celery_app.app.send_task",
                        lambda name, args=None, **kw: sent.append((name, args)))
    return sent


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="correct-horse-1")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", password="correct-horse-2")


@pytest.fixture
def client_a(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def dataset(alice) -> Dataset:
    return Dataset.objects.create(owner=alice, name="tiny", status=Dataset.READY, report=REPORT,
                                  num_classes=2, num_images=20, size=1234)


@pytest.fixture
def search(alice, dataset) -> Search:
    config = {"space": "enas-micro", "space_options": {"num_nodes": 2}, "controller": "reinforce",
              "evaluator": "shared", "budget_seconds": 60.0, "max_archs": None, "max_epochs": None,
              "final": {"budget_seconds": 30.0, "epochs": None}}
    return Search.objects.create(owner=alice, dataset=dataset, name="first", config=config,
                                 status=Search.RUNNING, progress=0.4, phase="search")


def add_event(search: Search, seq: int, type_: str, payload: dict) -> SearchEvent:
    return SearchEvent.objects.create(search=search, seq=seq, type=type_, time=time.time(), payload=payload)
