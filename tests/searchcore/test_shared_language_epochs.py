"""The language search's per-epoch validation (issue 9): each ``child_train`` of an ``enas-rnn`` +
``shared`` search carries the supernet's validation perplexity, the unigram baseline on the same
tokens and whether the rewards are still at noise level (``training.lm_verdict``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from searchcore import SearchConfig, run_search
from searchcore.data import load_task_data
from searchcore.events import ListSink
from searchcore.spaces.base import LANGUAGE
from searchcore.training.lm import stream_metrics, unigram_perplexity
from searchcore.training.lm_verdict import LEARNED_FRACTION
from tests.searchcore.test_shared_language import evaluator, sample

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"


@pytest.fixture(scope="module")
def corpus():
    return load_task_data(LANGUAGE, CORPUS, seq_len=10)


def test_an_epoch_reports_the_valid_perplexity_of_its_last_cell_and_the_baseline(corpus):
    ev = evaluator(corpus, lr=5.0)
    archs = [sample(ev.context.space, seed) for seed in range(len(ev.train_windows))]
    stats = ev.train_epoch(iter(archs).__next__)
    last = archs[-1]
    ev.net.eval()
    expected = stream_metrics(lambda x, h: ev.net.run_arch(x, last, h), ev.full_windows)["perplexity"]
    targets = torch.cat([y.reshape(-1) for _, y in ev.full_windows])
    baseline = min(unigram_perplexity(corpus.train, targets, len(corpus.vocab)), len(corpus.vocab))
    extras = stats.extras
    assert extras["valid_perplexity"] == pytest.approx(expected, rel=1e-4)
    assert extras["baseline_perplexity"] == pytest.approx(baseline, rel=1e-4)
    assert extras["at_noise_level"] is (not extras["valid_perplexity"] < LEARNED_FRACTION * baseline)


def test_a_stopped_epoch_reports_no_validation(corpus):
    ev = evaluator(corpus)
    arch = sample(ev.context.space, 1)
    ev.context.should_stop = lambda: ev.steps >= 2
    assert ev.train_epoch(lambda: arch).extras == {}


def test_the_search_emits_them_in_child_train_and_untrained_weights_are_at_noise_level(tmp_path):
    sink = ListSink()
    config = SearchConfig(space="enas-rnn", data=str(CORPUS), evaluator="shared", controller="reinforce",
                          max_epochs=2, batch_size=4, controller_steps_per_epoch=2, derive_samples=1,
                          space_options={"num_nodes": 3, "hidden_size": 16},
                          evaluator_options={"lr": 1e-5}, device="cpu")
    run_search(config, tmp_path / "search", sink=sink)
    epochs = [e.payload for e in sink.events if e.type == "child_train"]
    assert epochs and [p["epoch"] for p in epochs] == list(range(1, len(epochs) + 1))
    for payload in epochs:  # lr 1e-5: the shared weights stay near uniform guessing
        assert payload["valid_perplexity"] >= LEARNED_FRACTION * payload["baseline_perplexity"]
        assert payload["at_noise_level"] is True
