"""The designer's estimate builds the input of the task's kind and times the evaluator's network."""

from __future__ import annotations

import pytest
import torch

from searchcore.planning.costs import clear_measurements
from searchcore.spaces import TaskSpec
from searchcore.spaces.nb201 import NB201Space
from webapp.designer.estimate import estimate_epoch, random_batch, uses_supernet

OPTIONS = {"ops": ["nor_conv_1x1", "skip_connect"], "channels": 4, "cells_per_stage": 1}


def test_image_batches_are_images_with_class_labels():
    x, y = random_batch(TaskSpec(1, 12, 3), 5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 1, 12, 12) and x.dtype == torch.float32
    assert y.shape == (5,) and int(y.min()) >= 0 and int(y.max()) < 3


def test_language_batches_are_token_ids_with_next_token_targets():
    x, y = random_batch(TaskSpec.language(50, 7), 4, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (7, 4) and x.dtype == torch.int64
    assert int(x.min()) >= 0 and int(x.max()) < 50
    assert torch.equal(x[1:], y[:-1])  # the target of each position is the next token


def test_the_network_follows_the_evaluator():
    assert uses_supernet("nb201", "shared") is True
    assert uses_supernet("nb201", "benchmark") is False


@pytest.mark.parametrize("evaluator, unused", [("shared", "build_child"), ("benchmark", "build_supernet")])
def test_estimate_times_only_the_network_the_evaluator_runs(monkeypatch, evaluator, unused):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{unused} must not be built for the {evaluator} evaluator")

    monkeypatch.setattr(NB201Space, unused, refuse)
    clear_measurements()
    try:
        estimate = estimate_epoch("nb201", OPTIONS, train_size=32, batch_size=16, controller_steps=1,
                                  task=TaskSpec(3, 8, 4), evaluator=evaluator)
    finally:
        clear_measurements()
    assert estimate.seconds_per_epoch > 0 and "training step of 16 images" in estimate.basis
