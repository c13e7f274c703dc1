"""``combination_errors`` on every registered space x evaluator pair, taken from the registries.

A pair it accepts must really run: the space is created, the evaluator built on the data it
declares (a dataset or the benchmark table) and one sampled architecture scored. A pair it refuses
is refused under the ``evaluator`` field with a message naming the evaluator.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from searchcore.compat import combination_errors, compatibility_table
from searchcore.data import load_task_data
from searchcore.evaluators import EvaluatorContext, create_evaluator, evaluator_class, list_evaluators
from searchcore.evaluators.data_ref import data_reference
from searchcore.spaces import create_space, list_spaces, space_class
from searchcore.spaces.base import IMAGE, LANGUAGE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = {"channels": 4, "cells_per_stage": 1, "num_nodes": 2, "num_layers": 3}
DATA = {IMAGE: FIXTURES / "cifar10_tiny_png.zip", LANGUAGE: FIXTURES / "wikitext2_tiny.txt"}
TABLE = FIXTURES / "nb201_cifar10.csv"
PAIRS = [(space, evaluator) for space in list_spaces() for evaluator in list_evaluators()]


@pytest.fixture(scope="module")
def datasets():
    cache: dict[str, object] = {}

    def get(kind: str) -> object:
        if kind not in cache:
            cache[kind] = load_task_data(kind, DATA[kind], image_size=8, seed=0)
        return cache[kind]

    return get


def _small_space(name: str):
    names = space_class(name).schema.names()
    return create_space(name, **{k: v for k, v in SMALL.items() if k in names})


def test_the_matrix_has_both_valid_and_refused_pairs():
    verdicts = {pair: not combination_errors(*pair) for pair in PAIRS}
    assert any(verdicts.values()) and not all(verdicts.values())


@pytest.mark.parametrize("space_name, evaluator", PAIRS)
def test_every_pair_is_judged_and_valid_pairs_run(space_name, evaluator, datasets):
    errors = combination_errors(space_name, evaluator)
    if errors:
        assert set(errors) == {"evaluator"}
        assert all(evaluator in message for message in errors["evaluator"])
        assert evaluator not in compatibility_table()[space_name]["evaluators"]
        return
    torch.manual_seed(0)
    space = _small_space(space_name)
    cls = evaluator_class(evaluator)
    data = datasets(space.task_kind) if cls.needs_dataset else str(TABLE)
    ref = data_reference(space.task_kind, DATA[space.task_kind], data, 0) if cls.needs_dataset else None
    context = EvaluatorContext(space=space, device=torch.device("cpu"), seed=0, data=data, data_ref=ref)
    small = {"batch_size": 8, "child_epochs": 1}  # a scratch child trains one epoch here
    options = {k: v for k, v in small.items() if k in cls.schema.names()}
    built = create_evaluator(evaluator, context=context, **options)
    reward = built.reward(space.sample_random(torch.Generator().manual_seed(0)))
    assert math.isfinite(reward)
    assert evaluator in compatibility_table()[space_name]["evaluators"]


@pytest.mark.parametrize("space_name", list_spaces())
def test_a_dataset_of_the_other_kind_is_refused_under_dataset(space_name):
    kind = space_class(space_name).task_kind
    other = LANGUAGE if kind == IMAGE else IMAGE
    dataset_evaluators = [e for e in list_evaluators()
                          if evaluator_class(e).needs_dataset and not combination_errors(space_name, e)]
    for evaluator in dataset_evaluators:
        assert not combination_errors(space_name, evaluator, dataset_kind=kind)
        errors = combination_errors(space_name, evaluator, dataset_kind=other)
        assert list(errors) == ["dataset"] and space_name in errors["dataset"][0]


def test_unknown_names_are_reported_under_their_field():
    errors = combination_errors("no-such-space", "no-such-evaluator", controller="no-such-controller")
    assert set(errors) == {"space", "evaluator", "controller"}
