"""Honest time-per-epoch estimates for the designer.

We *measure* rather than guess (``searchcore.planning.costs``): the network the evaluator would
run with the chosen options (the shared-weight supernet when the evaluator shares weights and the
space has one, else the standalone child of one sampled architecture), timed for a few real
training steps and forwards on this machine's CPU, then scaled by the dataset's train size and
the batch size. One epoch = ``ceil(train / batch)`` training steps plus
``controller_steps_per_epoch`` reward evaluations (one validation-batch forward each).

GPU figures are the CPU measurement divided by ``GPU_SPEEDUP``, an assumed factor (not measured
here — this machine has no GPU); the designer labels them as estimates.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from searchcore.evaluators import evaluator_class
from searchcore.planning.costs import MEASURE_BATCH, StepTiming, measure_step, random_batch
from searchcore.spaces import TaskSpec, space_class
from searchcore.spaces.base import IMAGE, LANGUAGE

logger = logging.getLogger(__name__)

GPU_SPEEDUP = 30.0  # assumed CPU(2-16 cores) -> single modern GPU speed-up for small conv nets
MEASURE_THREADS = 1  # one intra-op thread (searchcore.planning.costs): a running search shares the cores
DEFAULT_TASKS = {IMAGE: TaskSpec.image(3, 32, 10), LANGUAGE: TaskSpec.language(10000, 35)}
__all__ = ["GPU_SPEEDUP", "MEASURE_BATCH", "Estimate", "StepTiming", "estimate_epoch", "format_duration",
           "measure_step", "random_batch", "uses_supernet"]


@dataclass(frozen=True)
class Estimate:
    seconds_per_epoch: float
    device: str  # "cpu" | "gpu"
    measured: bool  # False when scaled by GPU_SPEEDUP
    basis: str  # one sentence saying how it was obtained

    def to_dict(self) -> dict[str, Any]:
        return {"seconds_per_epoch": round(self.seconds_per_epoch, 4), "device": self.device,
                "measured": self.measured, "basis": self.basis,
                "text": format_duration(self.seconds_per_epoch)}


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_epoch(space: str, options: dict[str, Any], *, train_size: int, batch_size: int = 64,
                   controller_steps: int = 30, device: str = "cpu", task: TaskSpec | None = None,
                   evaluator: str = "shared") -> Estimate:
    """``train_size`` counts images (image tasks) or sequences of ``task.seq_len`` tokens (language)."""
    task = task or DEFAULT_TASKS[space_class(space).task_kind]
    timing = measure_step(space, json.dumps(options, sort_keys=True), task, uses_supernet(space, evaluator),
                          threads=MEASURE_THREADS)
    scale = batch_size / MEASURE_BATCH
    steps = math.ceil(max(train_size, 1) / batch_size)
    cpu = steps * timing.train_step * scale + controller_steps * timing.forward * scale
    unit = "images" if task.kind == IMAGE else f"sequences of {task.seq_len} tokens"
    basis = (f"measured: {timing.train_step * 1000:.0f} ms per training step of {MEASURE_BATCH} {unit} on "
             f"one thread of this server's CPU, scaled to {steps} steps of {batch_size}")
    if device == "gpu":
        return Estimate(cpu / GPU_SPEEDUP, "gpu", False,
                        basis + f", divided by an assumed GPU speed-up of {GPU_SPEEDUP:.0f}×")
    return Estimate(cpu, "cpu", True, basis)


def uses_supernet(space: str, evaluator: str) -> bool:
    """The evaluator trains the shared-weight supernet (and the space has one); else a standalone child."""
    return evaluator_class(evaluator).needs_supernet and space_class(space).has_supernet
