"""A NAS-RL search as a user starts it: ``nas-rl-cnn`` with the ``scratch`` evaluator through the
web app's config, the worker's runner, final training and the download package (issue 8 item 5)."""

from __future__ import annotations

import json
import zipfile
from typing import Any
from unittest import mock

import pytest

from webapp.searches.models import Search, SearchEvent
from webapp.searches.services import create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _cpu(cpu_no_pushes: Any) -> Any:
    return cpu_no_pushes


def test_a_nas_rl_search_trains_each_child_from_scratch_and_is_packaged(user, images, enqueued) -> None:
    search = create_search(user, {
        "dataset": images.pk, "space": "nas-rl-cnn", "controller": "reinforce", "evaluator": "scratch",
        "space_options": {"num_layers": 2, "channels": 8, "filter_counts": ["24"]},
        "evaluator_options": {"child_epochs": 1, "batch_size": 16, "cube_reward": True},
        "archs_per_step": 2, "budget": {"seconds": 120, "max_archs": 4}, "image_size": 8,
        "final_budget": {"epochs": 1}})
    assert search.config["evaluator"] == "scratch"
    claim = lease.claim(search.pk)
    # one epoch on 80 images may land at chance; the verdict has its own tests
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        assert run_claimed_search(search.pk, claim.owner) == Search.SUCCEEDED

    events = list(SearchEvent.objects.filter(search=search).order_by("seq"))
    sampled = [e.payload for e in events if e.type == "arch_sampled"]
    assert 2 <= len(sampled) <= 4 and all(0.0 <= p["reward"] <= 1.0 for p in sampled)
    steps = [e.payload for e in events if e.type == "controller_step"]
    assert steps and all(s["step"] == i for i, s in enumerate(steps, start=1))
    assert not any(e.type == "child_train" for e in events)  # no shared weights
    assert events[-1].type == "finished"

    search.refresh_from_db()
    assert search.best["architecture"]["space"] == "nas-rl-cnn"
    with zipfile.ZipFile(search.directory / "package.zip") as zf:
        assert json.loads(zf.read("architecture.json"))["space"] == "nas-rl-cnn"
        assert {"model.onnx", "predict.py", "metrics.json"} <= set(zf.namelist())
