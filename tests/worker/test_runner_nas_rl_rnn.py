"""A ``nas-rl-rnn`` search through the worker (issue 9 item 3): a text upload, the API's service with
``scratch`` (children trained on their own by truncated BPTT), tiny sizes -> search -> final training
-> package, all by the runner."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from webapp.searches.models import Search, SearchEvent, TrainedModel
from webapp.searches.services import create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nas_rl_rnn_scratch_search_on_a_text_upload_succeeds_with_a_package(user, corpus,
                                                                              cpu_no_pushes) -> None:
    search = create_search(user, {
        "dataset": corpus.pk, "space": "nas-rl-rnn", "space_options": {"leaves": 2, "hidden_size": 32},
        "evaluator": "scratch", "evaluator_options": {"child_epochs": 2}, "budget": {"max_archs": 3},
        "archs_per_step": 2, "final_budget": {"epochs": 5}, "final": {"batch_size": 4}, "batch_size": 4})
    status = run_claimed_search(search.pk, lease.claim(search.pk).owner)
    search.refresh_from_db()
    assert status == Search.SUCCEEDED, search.message
    assert search.best["architecture"]["space"] == "nas-rl-rnn" and 0 < search.best["reward"] < 80
    rewards = [e.payload["reward"] for e in SearchEvent.objects.filter(search=search, type="arch_sampled")]
    assert len(rewards) >= 3 and all(0 < r < 80 for r in rewards)  # 80 / a child's validation perplexity
    model = TrainedModel.objects.get(search=search)
    assert model.metrics["test_perplexity"] > 1
    with zipfile.ZipFile(Path(django_settings.MEDIA_ROOT) / model.package.name) as zf:
        assert {"model.onnx", "predict.py"} <= set(zf.namelist())
        assert json.loads(zf.read("architecture.json"))["inject"]["node"] in (0, 1)
