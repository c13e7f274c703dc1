"""``worker.task_kinds``: the one place where a run differs by task kind."""

from __future__ import annotations

import pytest
import torch

from searchcore.training.samples import prompts_from
from worker import task_kinds
from worker.task_kinds import run_kind


def test_each_kind_reports_its_own_test_metric() -> None:
    metrics = {"test_accuracy": 0.25, "test_perplexity": 123.44}
    assert run_kind("nb201").headline(metrics) == "test accuracy 25.0%"
    assert run_kind("enas-rnn").headline(metrics) == "test perplexity 123.4"
    assert run_kind("enas-rnn").headline({}) is None


def test_a_language_run_gets_no_image_inputs() -> None:
    config = {"seed": 7, "image_size": 32, "grayscale": False}
    assert run_kind("enas-rnn").final_inputs(config, "/nowhere/corpus.txt") == {"seed": 7}


def test_a_kind_the_worker_does_not_know_fails_with_a_reason(monkeypatch) -> None:
    monkeypatch.setattr(task_kinds, "RUN_KINDS", {"image": task_kinds.RUN_KINDS["image"]})
    with pytest.raises(ValueError, match="cannot run 'language' tasks"):
        run_kind("enas-rnn")


@pytest.mark.parametrize(("count", "expected"), [(2, ["a b c", "f g h"]), (5, ["a b c", "f g h"])])
def test_prompts_are_the_openings_of_lines_longer_than_the_prompt(count, expected) -> None:
    vocab = ["<eos>", "a", "b", "c", "d", "e", "f", "g", "h", "i"]
    text = ["a", "b", "c", "d", "<eos>", "e", "<eos>", "f", "g", "h", "i", "<eos>"]
    ids = torch.tensor([vocab.index(w) for w in text])
    assert prompts_from(ids, vocab, "<eos>", count=count, words=3) == expected
