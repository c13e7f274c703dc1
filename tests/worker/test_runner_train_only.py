"""A run of a space without decisions (the ResNet-20 control): final training only, for the whole budget."""

from __future__ import annotations

import json
import zipfile
from typing import Any
from unittest import mock

import pytest

from webapp.searches.models import Search, SearchEvent, TrainedModel
from webapp.searches.services import create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
SEARCH_EVENTS = {"controller_step", "arch_sampled", "child_train"}


@pytest.fixture(autouse=True)
def _cpu(cpu_no_pushes: Any) -> Any:
    return cpu_no_pushes


def test_the_resnet20_control_trains_for_the_whole_budget_and_is_packaged(user, images, enqueued) -> None:
    main = create_search(user, {
        "dataset": images.pk, "space": "nb201", "space_options": {"channels": 4, "cells_per_stage": 1},
        "evaluator": "shared", "budget": {"seconds": 3, "max_archs": 20}, "image_size": 16,
        "final_budget": {"seconds": 3}, "final": {"cells_per_stage": 1}, "controls": True})
    baseline = main.controls.get(role="baseline")
    claim = lease.claim(baseline.pk)
    # a few seconds of ResNet-20 on 80 images may land at chance; the verdict has its own tests
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        assert run_claimed_search(baseline.pk, claim.owner) == Search.SUCCEEDED
    baseline.refresh_from_db()
    assert baseline.message.startswith("Training finished; test accuracy ") and baseline.progress == 1.0
    assert baseline.best == {"architecture": {"space": "resnet20", "block": "basic"}, "reward": None}

    events = list(SearchEvent.objects.filter(search=baseline).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert not {e.type for e in events} & SEARCH_EVENTS  # nothing was searched
    assert {"final_epoch", "evaluation"} <= {e.type for e in events} and events[-1].type == "finished"
    assert not (baseline.directory / "search").exists()

    train_config = json.loads((baseline.directory / "final" / "train_config.json").read_text())
    assert train_config["budget_seconds"] == 6.0  # the search's 3 s and final training's 3 s
    assert (train_config["init"], train_config["child_overrides"]["channels"]) == ("scratch", 16)
    assert train_config["arch"] == {"space": "resnet20", "block": "basic"}
    metrics = TrainedModel.objects.get(search=baseline).metrics
    assert metrics["params"] == 272_474  # RGB input, 10 classes: the ResNet-20 itself
    assert metrics["latency_ms"] > 0 and metrics["latency_device"] == "cpu"
    with zipfile.ZipFile(baseline.directory / "package.zip") as zf:
        names = zf.namelist()
        assert json.loads(zf.read("architecture.json"))["space"] == "resnet20"
    assert {"model.onnx", "predict.py", "metrics.json"} <= set(names)


def test_the_lstm_control_of_a_language_search_trains_for_the_whole_budget_and_is_packaged(
        user, corpus, enqueued) -> None:
    main = create_search(user, {
        "dataset": corpus.pk, "space": "enas-rnn", "space_options": {"num_nodes": 3, "hidden_size": 16},
        "evaluator": "shared", "budget": {"seconds": 3}, "final_budget": {"seconds": 3},
        "final": {"batch_size": 4}, "controls": True})
    baseline = main.controls.get(role="baseline")
    claim = lease.claim(baseline.pk)
    status = run_claimed_search(baseline.pk, claim.owner)
    baseline.refresh_from_db()
    # a few seconds on a 1,155-token corpus may learn nothing beyond word frequencies (the verdict's own
    # tests say when); trained and packaged either way
    assert status == Search.SUCCEEDED or "learned nothing" in baseline.message, baseline.message
    events = list(SearchEvent.objects.filter(search=baseline).order_by("seq"))
    assert not {e.type for e in events} & SEARCH_EVENTS and events[-1].type == "finished"
    train_config = json.loads((baseline.directory / "final" / "train_config.json").read_text())
    assert train_config["budget_seconds"] == 6.0 and train_config["init"] == "scratch"
    assert train_config["arch"]["space"] == "lstm"
    assert train_config["child_overrides"]["hidden_size"] == 16  # as wide as the searched cell, not planned
    metrics = TrainedModel.objects.get(search=baseline).metrics
    assert metrics["test_perplexity"] > 1
    with zipfile.ZipFile(baseline.directory / "package.zip") as zf:
        assert json.loads(zf.read("architecture.json"))["space"] == "lstm"
        assert {"model.onnx", "predict.py"} <= set(zf.namelist())
