"""Fixtures of the planning tests: a fake ``measure`` that records what the planner asked to time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from searchcore.planning import StepTiming
from searchcore.spaces import TaskSpec

# (options, supernet, batch) -> (seconds of a training step, seconds of a forward pass)
StepCost = Callable[[dict[str, Any], bool, int], tuple[float, float]]


class Measured(NamedTuple):
    options: dict[str, Any]
    task: TaskSpec
    supernet: bool
    batch: int


class RecordingCosts:
    """A ``measure(space, options, task, supernet, batch) -> StepTiming`` whose seconds come from
    ``cost``; every call is kept in ``calls`` so a test can check what was measured."""

    def __init__(self, cost: StepCost) -> None:
        self.cost = cost
        self.calls: list[Measured] = []

    def __call__(self, space: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
                 batch: int) -> StepTiming:
        self.calls.append(Measured(dict(options), task, supernet, batch))
        train_step, forward = self.cost(options, supernet, batch)
        return StepTiming(train_step=train_step, forward=forward, batch=batch)


@pytest.fixture
def recording_costs() -> Callable[[StepCost], RecordingCosts]:
    """``recording_costs(cost)``: a fresh recording ``measure`` with the test's own cost model."""
    return RecordingCosts
