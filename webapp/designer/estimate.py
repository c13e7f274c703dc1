"""Honest time-per-epoch estimates for the designer.

We *measure* rather than guess: build the space's supernet with the chosen options, time a few
real training steps (forward + backward + SGD) and validation forwards on random input of the
dataset's shape on this machine's CPU, then scale by the dataset's train size and the batch size.
One weight-sharing epoch = ``ceil(train / batch)`` training steps plus
``controller_steps_per_epoch`` reward evaluations (one validation-batch forward each).

GPU figures are the CPU measurement divided by ``GPU_SPEEDUP``, an assumed factor (not measured
here — this machine has no GPU); the designer labels them as estimates.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from searchcore.spaces import TaskSpec, create_space

logger = logging.getLogger(__name__)

MEASURE_BATCH = 16
GPU_SPEEDUP = 30.0  # assumed CPU(2-16 cores) -> single modern GPU speed-up for small conv nets
_LOCK = threading.Lock()  # one measurement at a time: they compete for the same cores


@dataclass(frozen=True)
class StepTiming:
    train_step: float  # seconds for one train step at MEASURE_BATCH
    forward: float  # seconds for one eval forward at MEASURE_BATCH


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
                   controller_steps: int = 30, device: str = "cpu", task: TaskSpec | None = None) -> Estimate:
    timing = measure_step(space, json.dumps(options, sort_keys=True), task or TaskSpec())
    scale = batch_size / MEASURE_BATCH
    steps = math.ceil(max(train_size, 1) / batch_size)
    cpu = steps * timing.train_step * scale + controller_steps * timing.forward * scale
    basis = (f"measured: {timing.train_step * 1000:.0f} ms per training step of {MEASURE_BATCH} images on "
             f"this server's CPU, scaled to {steps} steps of {batch_size}")
    if device == "gpu":
        return Estimate(cpu / GPU_SPEEDUP, "gpu", False,
                        basis + f", divided by an assumed GPU speed-up of {GPU_SPEEDUP:.0f}×")
    return Estimate(cpu, "cpu", True, basis)


@lru_cache(maxsize=64)
def measure_step(space: str, options_json: str, task: TaskSpec) -> StepTiming:
    """Time real supernet steps for one (space, options, task); cached per combination."""
    with _LOCK:
        return _measure(space, json.loads(options_json), task)


def _measure(space_name: str, options: dict[str, Any], task: TaskSpec) -> StepTiming:
    space = create_space(space_name, **options)
    generator = torch.Generator().manual_seed(0)
    model = space.build_supernet(task)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(MEASURE_BATCH, task.in_channels, task.image_size, task.image_size, generator=generator)
    y = torch.randint(0, task.num_classes, (MEASURE_BATCH,), generator=generator)
    train_times = [_train_step(model, optimizer, space.sample_random(generator), x, y) for _ in range(3)]
    model.eval()
    with torch.no_grad():
        forward_times = [_timed(lambda: model(x, space.sample_random(generator))) for _ in range(2)]
    timing = StepTiming(train_step=min(train_times[1:]), forward=min(forward_times))
    logger.info("measured %s %s: %.3fs/step", space_name, options, timing.train_step)
    return timing


def _train_step(model: nn.Module, optimizer: torch.optim.Optimizer, arch: Any,
                x: torch.Tensor, y: torch.Tensor) -> float:
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x, arch), y)
        loss.backward()
        optimizer.step()

    return _timed(step)


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
