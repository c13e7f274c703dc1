"""A language search through the worker (issue 9): a text upload, ``POST /api/searches/``'s service
with ``enas-rnn`` + ``shared``, tiny sizes -> search -> final training -> package, all by the runner.

The runner picks the final-training settings by the space's task kind in one place
(``worker.runner._final_config`` via ``searchcore`` task kinds): no image size or colour reaches a
language run, and the finished message reports test perplexity, not accuracy.
"""

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
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
TINY = {"num_nodes": 3, "hidden_size": 16}


def test_an_enas_rnn_search_on_a_text_upload_succeeds_with_a_package(user, corpus, cpu_no_pushes) -> None:
    search = create_search(user, {
        "dataset": corpus.pk, "space": "enas-rnn", "space_options": TINY, "evaluator": "shared",
        "budget": {"max_epochs": 1}, "final_budget": {"epochs": 3}, "batch_size": 4,
        "controller_steps_per_epoch": 2, "derive_samples": 2})
    assert "image_size" not in search.config or search.config["image_size"] is None
    status = run_claimed_search(search.pk, lease.claim(search.pk).owner)
    search.refresh_from_db()
    assert status == Search.SUCCEEDED, search.message
    assert "perplexity" in search.message and "accuracy" not in search.message

    train_config = json.loads((search.directory / "final" / "train_config.json").read_text())
    assert train_config.get("image_size") is None and train_config.get("grayscale") is None
    model = TrainedModel.objects.get(search=search)
    assert model.metrics["test_perplexity"] > 1
    samples = model.metrics["samples"]  # continuations of test-line openings, made after training
    test_lines = CORPUS.read_text(encoding="utf-8").splitlines()[45:]
    assert len(samples) == 3 and all(isinstance(s["continuation"], str) for s in samples)
    assert samples[0]["prompt"] == " ".join(test_lines[0].split()[:3])
    assert any(s["continuation"].split() for s in samples)
    with zipfile.ZipFile(Path(django_settings.MEDIA_ROOT) / model.package.name) as zf:
        names = set(zf.namelist())
        prep = json.loads(zf.read("preprocessing.json"))
    assert {"model.onnx", "predict.py"} <= names, names
    assert len(prep["vocab"]) == model.metrics["vocab_size"] == corpus.report["vocab_size"]
    types = set(SearchEvent.objects.filter(search=search).values_list("type", flat=True))
    assert {"child_train", "final_epoch", "finished"} <= types, types
    final = SearchEvent.objects.filter(search=search, type="final_epoch").order_by("seq").last()
    assert final.payload["valid_perplexity"] > 1  # the live page's valid perplexity curve
    epoch = SearchEvent.objects.filter(search=search, type="child_train").order_by("seq").first()
    assert epoch.payload["valid_perplexity"] > 1 and epoch.payload["baseline_perplexity"] > 1  # search phase
    assert isinstance(epoch.payload["at_noise_level"], bool)


def test_a_language_model_that_learned_nothing_fails_with_the_reason_and_a_budget(user, corpus,
                                                                                 cpu_no_pushes) -> None:
    """lr 1e-5 for one epoch: the test perplexity stays near uniform (the vocabulary size), above 0.9 x
    the unigram baseline (``training.lm_verdict``): failed, never succeeded; the package is kept."""
    search = create_search(user, {
        "dataset": corpus.pk, "space": "enas-rnn", "space_options": TINY, "evaluator": "shared",
        "budget": {"max_epochs": 1}, "final_budget": {"epochs": 1}, "final": {"lr": 1e-5}, "batch_size": 4,
        "controller_steps_per_epoch": 2, "derive_samples": 2})
    status = run_claimed_search(search.pk, lease.claim(search.pk).owner)
    search.refresh_from_db()
    assert status == Search.FAILED
    assert search.message.startswith("The final model learned nothing beyond word frequencies: test "
                                     "perplexity"), search.message
    assert "Try a budget of at least 10 minutes." in search.message
    verdict = TrainedModel.objects.get(search=search).metrics["verdict"]
    assert verdict["above_chance"] is False and verdict["test_perplexity"] >= verdict["threshold"]
    assert verdict["threshold"] == pytest.approx(0.9 * min(verdict["unigram_perplexity"],
                                                           verdict["uniform_perplexity"]), rel=1e-4)
