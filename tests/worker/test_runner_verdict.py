"""A final model at chance ends the search FAILED with the reason and a budget; nothing is lost."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from searchcore.training.verdict import chance_verdict
from webapp.datasets.models import Dataset
from webapp.searches.models import Search, SearchEvent, TrainedModel
from webapp.searches.services import create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
TINY = {"channels": 4, "cells_per_stage": 1}


@pytest.fixture(autouse=True)
def _cpu(cpu_no_pushes: Any) -> Any:
    return cpu_no_pushes


def _run(user: Any, images: Dataset, valid_accuracy: float) -> Search:
    """A real tiny search, final training and export, with the verdict of ``valid_accuracy`` on 100
    balanced validation images (a one-epoch model on the fixture may or may not land above chance)."""
    search = create_search(user, {
        "dataset": images.pk, "space": "nb201", "space_options": TINY, "controller": "random",
        "evaluator": "shared", "budget": {"max_epochs": 1}, "controller_steps_per_epoch": 2,
        "derive_samples": 1, "batch_size": 16, "image_size": 16,
        "final": {"batch_size": 16}, "final_budget": {"epochs": 1}})
    forced = chance_verdict(valid_accuracy, list(range(10)) * 10, 10)
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: forced):
        claim = lease.claim(search.pk)
        run_claimed_search(search.pk, claim.owner)
    search.refresh_from_db()
    return search


def test_a_final_model_at_chance_fails_the_search_and_keeps_the_package(user, images, enqueued) -> None:
    search = _run(user, images, valid_accuracy=0.12)
    assert search.status == Search.FAILED
    assert search.message == (  # a run of seconds, doubled: the 10-minute floor
        "The final model is at chance level on validation (12.0 % vs chance 10.0 %): the search learned "
        "nothing useful. Try a budget of at least 10 minutes.")
    assert search.progress == 1.0  # every stage ran
    trained = TrainedModel.objects.get(search=search)  # the user can still inspect the model
    assert trained.metrics["verdict"]["above_chance"] is False
    assert (search.directory / "package.zip").is_file() and trained.package.name.endswith("package.zip")
    finished = SearchEvent.objects.get(search=search, type="finished").payload
    assert finished["status"] == "failed" and finished["message"] == search.message


def test_a_final_model_above_chance_succeeds(user, images, enqueued) -> None:
    search = _run(user, images, valid_accuracy=0.5)
    assert search.status == Search.SUCCEEDED and "test accuracy" in search.message
    assert TrainedModel.objects.get(search=search).metrics["verdict"]["above_chance"] is True
