"""The worker builds SearchConfig and FinalConfig from the stored engine config, re-parsing nothing."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from webapp.searches.models import Search
from webapp.searches.services import create_search
from worker.runner import SearchRunner

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
migration = importlib.import_module("webapp.searches.migrations.0002_engine_config")

OLD = {"space": "enas-micro", "space_options": {"num_nodes": 2}, "controller": "reinforce",
       "controller_options": {}, "evaluator": "shared", "evaluator_options": {},
       "budget": {"seconds": 60.0, "max_archs": None, "max_epochs": 2},
       "final_budget": {"seconds": None, "epochs": 3}, "seed": 4, "batch_size": 32}


def _stored(user: Any, fixture: str, name: str) -> Any:
    """A ready dataset whose file is a copy of ``tests/fixtures/<fixture>`` (the worker reads it to
    resolve the native input of final training)."""
    from webapp.datasets.models import Dataset

    dataset = Dataset.objects.create(owner=user, name=name, status=Dataset.READY, num_classes=10,
                                     num_images=100, file=f"datasets/x/{fixture}")
    dataset.path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / fixture, dataset.path)
    return dataset


@pytest.fixture
def ready_dataset(user: Any) -> Any:
    return _stored(user, "cifar10_tiny_png.zip", "cifar tiny")


def _runner(search: Search) -> SearchRunner:
    return SearchRunner(search, "me", mock.MagicMock())


def _result() -> Any:
    return SimpleNamespace(to_dict=lambda: {"space": "enas-micro", "architecture": {}})


def test_worker_configs_come_from_the_stored_config(settings, user, ready_dataset, enqueued) -> None:
    settings.NAS_DEVICE = "cpu"
    search = create_search(user, {"dataset": ready_dataset.pk, "space": "enas-micro", "budget": "20m",
                                  "space_options": {"num_nodes": 2}, "batch_size": 16, "seed": 7,
                                  "final": {"batch_size": 96, "lr": 0.1, "cutout": 8, "epochs": 5}})
    runner = _runner(Search.objects.select_related("dataset").get(pk=search.pk))
    config = runner._search_config()
    assert (config.budget_seconds, config.batch_size, config.seed, config.device) == (1200.0, 16, 7, "cpu")
    assert config.data == str(ready_dataset.path) and config.space_options == {"num_nodes": 2}
    final = runner._final_config(_result())
    assert (final.batch_size, final.lr, final.cutout) == (96, 0.1, 8)
    assert (final.epochs, final.budget_seconds) == (5, None)
    assert (final.seed, final.device, final.drop_path) == (7, "cpu", 0.1)
    assert final.space_options == {"num_nodes": 2}


def test_final_batch_size_is_not_the_search_batch_size(user, ready_dataset, enqueued) -> None:
    search = create_search(user, {"dataset": ready_dataset.pk, "space": "enas-micro", "budget": "20m",
                                  "batch_size": 8})
    final = _runner(search)._final_config(_result())
    assert final.batch_size is None and final.budget_seconds == 120.0  # planned when training starts


def test_migration_converts_an_old_config_and_the_worker_runs_it(settings, user, ready_dataset) -> None:
    new = migration.convert(OLD)
    assert migration.convert(new) == new
    assert "budget" not in new and "final_budget" not in new
    assert (new["budget_seconds"], new["max_archs"], new["max_epochs"]) == (60.0, None, 2)
    final = new["final"]
    assert (final["epochs"], final["budget_seconds"], final["batch_size"]) == (3, None, 32)
    from searchcore.validation import validate_search

    checked, errors = validate_search(new)  # an old row reads as a valid engine config
    assert errors == {} and {**checked, **new, "final": checked["final"]} == checked
    assert {**checked["final"], **new["final"]} == checked["final"]  # settings added since: defaults
    search = Search.objects.create(owner=user, dataset=ready_dataset, name="old", config=new)
    runner = _runner(search)
    assert runner._search_config().max_epochs == 2 and runner._final_config(_result()).epochs == 3


def test_migration_forwards_rewrites_rows(user, ready_dataset) -> None:
    from django.apps import apps

    search = Search.objects.create(owner=user, dataset=ready_dataset, name="old", config=dict(OLD))
    migration.forwards(apps, None)
    search.refresh_from_db()
    assert search.config == migration.convert(OLD) and search.config["final"]["epochs"] == 3


def test_final_training_gets_the_native_input_the_search_resolved(user, enqueued) -> None:
    """Stored as "auto" (None, so a resumed checkpoint compares equal); final training gets the
    dataset's 28x28 grayscale, and explicit settings stay as they were given."""
    gray = _stored(user, "gray28_png.zip", "digits")
    search = create_search(user, {"dataset": gray.pk, "space": "enas-micro", "budget": "20m"})
    assert (search.config["image_size"], search.config["grayscale"]) == (None, None)
    runner = _runner(Search.objects.select_related("dataset").get(pk=search.pk))
    assert (runner._search_config().image_size, runner._search_config().grayscale) == (None, None)
    final = runner._final_config(_result())
    assert (final.image_size, final.grayscale) == (28, True)
    chosen = create_search(user, {"dataset": gray.pk, "space": "enas-micro", "budget": "20m",
                                  "image_size": 16, "grayscale": False})
    final = _runner(chosen)._final_config(_result())
    assert (final.image_size, final.grayscale) == (16, False)
    half = create_search(user, {"dataset": gray.pk, "space": "enas-micro", "budget": "20m", "image_size": 20})
    assert (_runner(half)._final_config(_result()).image_size,
            _runner(half)._final_config(_result()).grayscale) == (20, True)
