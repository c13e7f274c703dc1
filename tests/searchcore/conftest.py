"""Fixtures for every searchcore test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore.spaces.base import LANGUAGE


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """The test networks and controllers are tiny: extra threads only add contention (and on a
    2-core CI box compete with the live stack's worker); bit-exact repeats (a scratch child run twice)
    also need the same thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_dropout() -> dict[str, float]:
    """Language space options that turn every dropout off (for exact arithmetic checks)."""
    return {"dropout_words": 0.0, "dropout_embedding": 0.0, "dropout_hidden": 0.0, "dropout_output": 0.0}


@pytest.fixture
def check_enas_language_knobs() -> Callable[[Any], None]:
    """``check(space)``: a language space with a supernet whose defaults are ENAS' PTB knobs (hidden and
    embedding width 200, tied decoder, dropouts words/embedding/hidden/output 0.25/0.75/0.25/0.75)."""
    def check(space: Any) -> None:
        o = space.options
        knobs = (space.task_kind, space.has_supernet, o.hidden_size, o.tie_weights)
        assert knobs == (LANGUAGE, True, 200, True)
        dropouts = (o.dropout_words, o.dropout_embedding, o.dropout_hidden, o.dropout_output)
        assert dropouts == (0.25, 0.75, 0.25, 0.75)

    return check


def assert_predicts_the_networks_next_words(train: Path, line: str, prompt: str = "the game was") -> None:
    """``line`` (predict.py's ``--top 3`` output for ``prompt``) names the trained network's 3 most
    likely next words after ``<eos> prompt``, with its probabilities (1e-4)."""
    from searchcore.training.io import load_trained

    fields = line.strip().split("\t")
    assert fields[0] == prompt and len(fields) == 7, fields
    model, prep, _ = load_trained(train)
    index = {w: i for i, w in enumerate(prep["vocab"])}
    ids = torch.tensor([[index[w] for w in ["<eos>", *prompt.split()]]]).t()
    with torch.no_grad():
        probs = torch.softmax(model(ids)[-1, 0].double(), -1)
    top = torch.topk(probs, 3)
    assert fields[1::2] == [prep["vocab"][i] for i in top.indices.tolist()]
    assert [float(p) for p in fields[2::2]] == pytest.approx(top.values.tolist(), abs=1e-4)
