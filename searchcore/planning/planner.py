"""Plan a run from its budget (issue 7): the search proxy and the final child's size and batch.

At the start of a run the planner measures the real step cost of candidate networks on this
device at the batch the run will use (``costs.measure_step``; the tests pass their own
``measure``), smallest first, and keeps the largest one that still gets the minimum amount of
learning out of the budget:

- search: at least ``MIN_SEARCH_EPOCHS`` supernet epochs and ``MIN_CONTROLLER_STEPS`` controller
  updates in what the budget has left after derive (``derive_samples`` + 2 candidates on the
  whole validation split, at most ``schedule.MAX_DERIVE_SHARE``) and the measuring itself;
- final: at least ``MIN_FINAL_EPOCHS`` epochs of the child (train + one validation pass each).

When even the smallest size cannot, the plan says so (``meaningful=False``) with the smallest
budget that could, and the run uses the smallest size. Sizes the user set are kept as they are;
the planner only fills what is left open. Measuring stops at the first rung that does not fit
(the cost grows along the ladder), so planning costs a few seconds, counted in the budget.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

from searchcore.planning.costs import StepTiming, measure_step
from searchcore.planning.ladder import child_ladder, fixed_by_user, proxy_ladder
from searchcore.planning.plan import FinalPlan, SearchPlan
from searchcore.search.schedule import ALWAYS_SCORED, MAX_DERIVE_SHARE
from searchcore.spaces import TaskSpec

MIN_SEARCH_EPOCHS = 10
MIN_CONTROLLER_STEPS = 100
MIN_FINAL_EPOCHS = 20
MAX_BATCH = 64
MIN_STEPS_PER_EPOCH = 8  # a smaller dataset gets a smaller batch rather than fewer steps

# (space, options, task, supernet?, batch) -> the step timing at that batch
Measure = Callable[[str, dict[str, Any], TaskSpec, bool, int], StepTiming]


def default_measure(device: str = "cpu", arch_json: dict[str, Any] | None = None,
                    threads: int | None = None) -> Measure:
    """``measure_step`` on ``device`` (``threads``: see ``costs``); the child is ``arch_json``
    (default: a random one)."""
    arch = json.dumps(arch_json, sort_keys=True) if arch_json is not None else None

    def measure(space: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
                batch: int) -> StepTiming:
        return measure_step(space, json.dumps(options, sort_keys=True), task, supernet, arch, device, threads,
                            batch)
    return measure


def planned_batch(train_size: int, given: int | None) -> int:
    """The user's batch, else up to ``MAX_BATCH`` so an epoch has ``MIN_STEPS_PER_EPOCH`` steps."""
    if given:
        return int(given)
    return max(4, min(MAX_BATCH, train_size // MIN_STEPS_PER_EPOCH))


def plan_search(space: str, space_options: dict[str, Any], task: TaskSpec, *, train_size: int,
                valid_size: int, budget_seconds: float, batch_size: int | None,
                controller_steps_per_epoch: int, derive_samples: int, measure: Measure) -> SearchPlan:
    started = time.perf_counter()
    batch = planned_batch(train_size, batch_size)
    train_steps, valid_batches = math.ceil(train_size / batch), math.ceil(max(valid_size, 1) / batch)
    steps_per_epoch = controller_steps_per_epoch
    derive_share = {}

    def cost(rung: dict[str, Any]) -> tuple[float, float]:
        timing = measure(space, {**space_options, **rung}, task, True, batch)
        epoch = train_steps * timing.train_seconds(batch) + steps_per_epoch * timing.forward_seconds(batch)
        derive = min((derive_samples + ALWAYS_SCORED) * valid_batches * timing.forward_seconds(batch),
                     MAX_DERIVE_SHARE * budget_seconds)
        derive_share[json.dumps(rung, sort_keys=True)] = derive
        left = budget_seconds - derive - (time.perf_counter() - started)
        return epoch, max(left, 0.0) / max(epoch, 1e-9)

    def fits(epochs: float) -> bool:
        return epochs >= MIN_SEARCH_EPOCHS and epochs * steps_per_epoch >= MIN_CONTROLLER_STEPS

    rungs = fixed_by_user(proxy_ladder(space), space_options) or [{}]
    rung, epoch, epochs, measured = _largest_that_fits(rungs, cost, fits)
    derive = derive_share[json.dumps(rung, sort_keys=True)]
    needed = max(MIN_SEARCH_EPOCHS, math.ceil(MIN_CONTROLLER_STEPS / max(steps_per_epoch, 1)))
    minimum = needed * measured[0]["seconds_per_epoch"] + derive
    steps = int(epochs * steps_per_epoch)
    meaningful = fits(epochs)
    return SearchPlan(space_options=rung, batch_size=batch, seconds_per_epoch=round(epoch, 3),
                      epochs=round(epochs, 2), controller_steps=steps, derive_seconds=round(derive, 2),
                      meaningful=meaningful, minimum_budget_seconds=round(minimum, 1),
                      message=_search_message(rung, epochs, steps, meaningful, minimum), measured=measured)


def plan_final(space: str, space_options: dict[str, Any], task: TaskSpec, *, train_size: int,
               valid_size: int, budget_seconds: float, batch_size: int | None, given: dict[str, Any],
               measure: Measure) -> FinalPlan:
    """``given``: the user's own ``build_child`` sizes (``channels``, ``cells_per_stage``, ...)."""
    batch = planned_batch(train_size, batch_size)
    train_steps, valid_steps = math.ceil(train_size / batch), math.ceil(max(valid_size, 1) / batch)

    def cost(rung: dict[str, Any]) -> tuple[float, float]:
        timing = measure(space, {**space_options, **_as_space_options(rung)}, task, False, batch)
        epoch = train_steps * timing.train_seconds(batch) + valid_steps * timing.forward_seconds(batch)
        return epoch, budget_seconds / max(epoch, 1e-9)

    def fits(epochs: float) -> bool:
        return epochs >= MIN_FINAL_EPOCHS

    rungs = fixed_by_user(child_ladder(space), given) or [{}]
    rung, epoch, epochs, measured = _largest_that_fits(rungs, cost, fits)
    minimum = MIN_FINAL_EPOCHS * measured[0]["seconds_per_epoch"]
    meaningful = fits(epochs)
    return FinalPlan(overrides=rung, batch_size=batch, seconds_per_epoch=round(epoch, 3),
                     epochs=round(epochs, 2), meaningful=meaningful, minimum_budget_seconds=round(minimum, 1),
                     message=_final_message(rung, epochs, meaningful, minimum), measured=measured)


def _largest_that_fits(rungs: list[dict[str, Any]], cost: Callable[[dict[str, Any]], tuple[float, float]],
                       fits: Callable[[float], bool]) -> tuple[dict[str, Any], float, float, list[dict]]:
    """Walk the ladder up while the rung fits: ``(rung, seconds per epoch, epochs, measured)``; the
    smallest rung when none fits. Stops at the first rung that does not fit (costs only grow)."""
    measured: list[dict[str, Any]] = []
    chosen: tuple[dict[str, Any], float, float] | None = None
    for rung in rungs:
        epoch, epochs = cost(rung)
        measured.append({"size": rung, "seconds_per_epoch": round(epoch, 3), "epochs": round(epochs, 2)})
        if chosen is not None and not fits(epochs):
            break
        chosen = (rung, epoch, epochs)
        if not fits(epochs):
            break
    assert chosen is not None, "a ladder has at least one rung"
    return (*chosen, measured)


def _as_space_options(overrides: dict[str, Any]) -> dict[str, Any]:
    """A child's size overrides as the space options that build the same child (for measuring)."""
    return {k: v for k, v in overrides.items() if k in ("channels", "cells_per_stage")}


def _size_text(rung: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rung.items()) or "the chosen size"


def _search_message(rung: dict[str, Any], epochs: float, steps: int, meaningful: bool, minimum: float) -> str:
    bought = (f"about {epochs:.0f} search epochs and {steps} controller steps with a proxy of "
              f"{_size_text(rung)}")
    if meaningful:
        return f"This budget buys {bought}."
    return (f"This budget buys only {bought}: too little for the controller to learn "
            f"(it needs {MIN_SEARCH_EPOCHS} epochs and {MIN_CONTROLLER_STEPS} steps). "
            f"Give the search at least {format_minutes(minimum)}.")


def _final_message(rung: dict[str, Any], epochs: float, meaningful: bool, minimum: float) -> str:
    bought = f"about {epochs:.0f} epochs of a child of {_size_text(rung)}"
    if meaningful:
        return f"Final training gets {bought}."
    return (f"Final training gets only {bought}: too few to converge (it needs {MIN_FINAL_EPOCHS}). "
            f"Give final training at least {format_minutes(minimum)}.")


def format_minutes(seconds: float) -> str:
    """``95`` -> ``"2 min"`` (whole minutes, rounded up; at least 1)."""
    return f"{max(1, math.ceil(seconds / 60))} min"
