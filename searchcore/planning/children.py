"""Plan a search whose children train from scratch (the ``scratch`` evaluator) from its time budget.

NAS-RL and NASNet train every sampled child on its own, which on a CPU takes minutes per child at
the paper's sizes: with the default of 5 epochs a 10-minute search of ``nas-rl-cnn`` on 1,600
CIFAR images scored no child at all before its budget ended (BENCHMARKS.md, bench.quality run A).
A time budget therefore buys a number of controller steps first: the budget is split over
``MIN_SCRATCH_STEPS`` steps of ``m`` children (plus the one derive may train), each child is capped
at that share (``child_seconds``), and the children are built at the largest size of the space's
proxy ladder (``channels``) that still gets ``MIN_CHILD_EPOCHS`` epochs in that share. A child that
trains its epochs faster leaves time for more steps. Only what the user left open is planned: their
``child_epochs`` / ``child_seconds`` and sizes are kept. A size's cost is the median of
``MEASURED_CHILDREN`` seeded random architectures of the space (children differ several-fold; the
cap keeps a slow one within its share).

Language children (``nas-rl-rnn`` or any language space with ``scratch``) are costed the same way:
an "example" is one ``seq_len``-token sequence (``example_counts``: the train split's sequences and
the validation sequences a child reads, at most ``training.language.VALID_TOKENS`` tokens), a step
is one BPTT window of ``batch`` columns measured on the child itself (``planning.costs`` times
language networks on random token windows), and the sizes are ``LANGUAGE_RUNGS`` of ``hidden_size``
(the image ladder has no language rung): a child's cost on a large vocabulary is its softmax and
its recurrence, both linear in the hidden width.
"""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

import torch

from searchcore.planning.costs import StepTiming
from searchcore.planning.ladder import fixed_by_user, proxy_ladder
from searchcore.planning.plan import SearchPlan
from searchcore.planning.planner import _largest_that_fits, _size_text, format_minutes, planned_batch
from searchcore.spaces import TaskSpec, create_space, space_class
from searchcore.spaces.base import LANGUAGE

MIN_SCRATCH_STEPS = 10  # controller updates a scratch search should get from its budget
MIN_CHILD_EPOCHS = 2.0  # epochs a child should get within its share of the budget
MIN_CHILD_SECONDS = 1.0  # the scratch evaluator's smallest child_seconds
MEASURED_CHILDREN = 3  # typical children measured per size (the median is planned with)
LANGUAGE_RUNGS = (32, 64, 100, 200)  # hidden_size of language children, smallest first (200: the default)


def plan_children(space: str, space_options: dict[str, Any], task: TaskSpec, *, train_size: int,
                  valid_size: int, budget_seconds: float, batch_size: int | None, children_per_step: int,
                  child_epochs: int, measure: Any) -> SearchPlan:
    """The children's size, batch and time cap for ``budget_seconds`` (``measure`` as the planner's,
    called with ``supernet=False``); ``child_epochs``: the epochs a child trains when not capped."""
    batch = planned_batch(train_size, batch_size)
    train_steps, valid_steps = math.ceil(train_size / batch), math.ceil(max(valid_size, 1) / batch)
    children = MIN_SCRATCH_STEPS * children_per_step + 1  # + the child derive may train
    share = budget_seconds / children

    def cost(rung: dict[str, Any]) -> tuple[float, float]:
        timing = measure(space, {**space_options, **rung}, task, False, batch)
        epoch = train_steps * timing.train_seconds(batch) + valid_steps * timing.forward_seconds(batch)
        return epoch, share / max(epoch, 1e-9)

    def fits(epochs: float) -> bool:
        return epochs >= MIN_CHILD_EPOCHS

    rungs = fixed_by_user(proxy_ladder(space) or language_ladder(space), space_options) or [{}]
    rung, epoch, epochs, measured = _largest_that_fits(rungs, cost, fits)
    per_child = min(share, child_epochs * epoch)  # a child stops at its epochs or at its share
    steps = int(budget_seconds / max(per_child * children_per_step, 1e-9))
    minimum = children * MIN_CHILD_EPOCHS * measured[0]["seconds_per_epoch"]
    meaningful = fits(epochs)
    return SearchPlan(space_options=rung, batch_size=batch, seconds_per_epoch=round(epoch, 3),
                      epochs=round(min(epochs, child_epochs), 2), controller_steps=steps,
                      derive_seconds=round(per_child, 2), meaningful=meaningful,
                      minimum_budget_seconds=round(minimum, 1),
                      message=_message(rung, min(epochs, child_epochs), steps, children_per_step, meaningful,
                                       minimum),
                      measured=measured, child_seconds=round(max(share, MIN_CHILD_SECONDS), 2))


def language_ladder(space: str) -> list[dict[str, int]]:
    """``hidden_size`` rungs of a language space's children (``[]`` for other spaces)."""
    cls = space_class(space)
    option = next((o for o in cls.schema.options if o.name == "hidden_size"), None)
    if cls.task_kind != LANGUAGE or option is None:
        return []
    return [{"hidden_size": h} for h in LANGUAGE_RUNGS if option.minimum <= h <= option.maximum]


def example_counts(data: Any) -> tuple[int, int]:
    """``(train, valid)`` examples a child reads per epoch: images, or a corpus's ``seq_len``-token
    sequences (validation: the part a language child reads after each epoch)."""
    if hasattr(data, "corpus"):
        from searchcore.training.language import VALID_TOKENS

        seq = int(data.seq_len)
        return max(1, data.train.numel() // seq), max(1, min(data.valid.numel(), VALID_TOKENS) // seq)
    return len(data.train.labels), len(data.valid.labels)


def typical_children(space: str, space_options: dict[str, Any], count: int = MEASURED_CHILDREN) -> list[dict]:
    """``count`` seeded random architectures of the space (as JSON) to measure: children differ
    several-fold in cost (measured on nas-rl-cnn at 8 channels: 8 s to 50 s per epoch of 1,600 images)."""
    instance = create_space(space, **space_options)
    archs = []
    for seed in range(count):
        arch = instance.sample_random(torch.Generator().manual_seed(seed))
        archs.append(json.loads(json.dumps({"space": space, **instance.arch_to_json(arch)})))
    return archs


def median_measure(measures: list[Any]) -> Any:
    """One ``Measure`` whose step timing is the median of ``measures``' (one per typical child)."""
    def measure(space: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
                batch: int) -> StepTiming:
        timings = [m(space, options, task, supernet, batch) for m in measures]
        return StepTiming(train_step=statistics.median(t.train_seconds(batch) for t in timings),
                          forward=statistics.median(t.forward_seconds(batch) for t in timings), batch=batch)
    return measure


def _message(rung: dict[str, Any], epochs: float, steps: int, m: int, meaningful: bool,
             minimum: float) -> str:
    bought = (f"about {steps} controller steps of {m} children, each trained from scratch for about "
              f"{epochs:.1f} epochs at {_size_text(rung)}")
    if meaningful:
        return f"This budget buys {bought}."
    return (f"This budget buys only {bought}: too little for the controller to learn (it needs "
            f"{MIN_SCRATCH_STEPS} steps with {MIN_CHILD_EPOCHS:.0f} epochs per child). "
            f"Give the search at least {format_minutes(minimum)}.")


__all__ = ["LANGUAGE_RUNGS", "MEASURED_CHILDREN", "MIN_CHILD_EPOCHS", "MIN_CHILD_SECONDS",
           "MIN_SCRATCH_STEPS", "example_counts", "language_ladder", "median_measure", "plan_children",
           "typical_children"]
