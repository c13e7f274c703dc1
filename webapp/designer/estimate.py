"""Honest time-per-epoch estimates for the designer.

We *measure* rather than guess: build the network the evaluator would run with the chosen options
(the shared-weight supernet when the evaluator shares weights and the space has one, else the
standalone child of one sampled architecture), time a few real training steps (forward + backward
+ SGD) and validation forwards on random input of the task's shape (images for image tasks, token
ids ``(seq_len, batch)`` for language tasks) on this machine's CPU, then scale by the dataset's
train size and the batch size. One epoch = ``ceil(train / batch)`` training steps plus
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

from searchcore.evaluators import evaluator_class
from searchcore.spaces import TaskSpec, create_space, space_class
from searchcore.spaces.base import IMAGE, LANGUAGE

logger = logging.getLogger(__name__)

MEASURE_BATCH = 16
GPU_SPEEDUP = 30.0  # assumed CPU(2-16 cores) -> single modern GPU speed-up for small conv nets
DEFAULT_TASKS = {IMAGE: TaskSpec.image(3, 32, 10), LANGUAGE: TaskSpec.language(10000, 35)}
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
                   controller_steps: int = 30, device: str = "cpu", task: TaskSpec | None = None,
                   evaluator: str = "shared") -> Estimate:
    """``train_size`` counts images (image tasks) or sequences of ``task.seq_len`` tokens (language)."""
    task = task or DEFAULT_TASKS[space_class(space).task_kind]
    timing = measure_step(space, json.dumps(options, sort_keys=True), task, uses_supernet(space, evaluator))
    scale = batch_size / MEASURE_BATCH
    steps = math.ceil(max(train_size, 1) / batch_size)
    cpu = steps * timing.train_step * scale + controller_steps * timing.forward * scale
    unit = "images" if task.kind == IMAGE else f"sequences of {task.seq_len} tokens"
    basis = (f"measured: {timing.train_step * 1000:.0f} ms per training step of {MEASURE_BATCH} {unit} on "
             f"this server's CPU, scaled to {steps} steps of {batch_size}")
    if device == "gpu":
        return Estimate(cpu / GPU_SPEEDUP, "gpu", False,
                        basis + f", divided by an assumed GPU speed-up of {GPU_SPEEDUP:.0f}×")
    return Estimate(cpu, "cpu", True, basis)


def uses_supernet(space: str, evaluator: str) -> bool:
    """The evaluator trains the shared-weight supernet (and the space has one); else a standalone child."""
    return evaluator_class(evaluator).needs_supernet and space_class(space).has_supernet


@lru_cache(maxsize=64)
def measure_step(space: str, options_json: str, task: TaskSpec, supernet: bool = True) -> StepTiming:
    """Time real training steps for one (space, options, task, network); cached per combination."""
    with _LOCK:
        return _measure(space, json.loads(options_json), task, supernet)


def _measure(space_name: str, options: dict[str, Any], task: TaskSpec, supernet: bool) -> StepTiming:
    space = create_space(space_name, **options)
    generator = torch.Generator().manual_seed(0)
    if supernet:
        model = space.build_supernet(task)

        def run(x: torch.Tensor) -> Any:
            return model(x, space.sample_random(generator))
    else:
        model = space.build_child(space.sample_random(generator), task)

        def run(x: torch.Tensor) -> Any:
            return model(x)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = random_batch(task, MEASURE_BATCH, generator)
    train_times = [_train_step(model, optimizer, run, x, y) for _ in range(3)]
    model.eval()
    with torch.no_grad():
        forward_times = [_timed(lambda: run(x)) for _ in range(2)]
    timing = StepTiming(train_step=min(train_times[1:]), forward=min(forward_times))
    logger.info("measured %s %s (%s): %.3fs/step", space_name, options, "supernet" if supernet else "child",
                timing.train_step)
    return timing


def random_batch(task: TaskSpec, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random input and targets of the task's shape: images ``(B, C, S, S)`` with class labels, or
    token ids ``(seq_len, B)`` (time-major, as ``batchify``) with next-token targets of that shape."""
    if task.kind == LANGUAGE:
        tokens = torch.randint(0, task.vocab_size, (task.seq_len + 1, batch), generator=generator)
        return tokens[:-1], tokens[1:]
    if task.kind != IMAGE:
        raise ValueError(f"no estimate input for task kind {task.kind!r}")
    x = torch.randn(batch, task.in_channels, task.image_size, task.image_size, generator=generator)
    return x, torch.randint(0, task.num_classes, (batch,), generator=generator)


def _train_step(model: nn.Module, optimizer: torch.optim.Optimizer, run: Any,
                x: torch.Tensor, y: torch.Tensor) -> float:
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        output = run(x)
        logits = output[0] if isinstance(output, (tuple, list)) else output  # (logits, aux | hidden)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()

    return _timed(step)


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
