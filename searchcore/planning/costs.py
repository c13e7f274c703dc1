"""Measured step costs: time real training steps and forwards of a network on this machine.

The planner and the designer *measure* rather than guess: build the network the run will train
(the shared-weight supernet, or the standalone child of one architecture), time a few real
training steps (forward + backward + SGD) and eval forwards on random input of the task's shape
(images for image tasks, token ids ``(seq_len, batch)`` for language tasks) at
a batch (the planner: the batch the run will use; the designer's estimate: ``MEASURE_BATCH``),
and scale linearly to other batch sizes. Linear scaling from batch 16 over-estimated batch 64 by
1.7-2x for ENAS-micro on a 2-core CPU (bench.quality, 2026-12-02): the planner measures at the
run's own batch for that reason. Measurements are cached per (space, options, task, network, device,
threads) and run one at a time: they compete for the same cores. ``threads``: measure with that
many intra-op threads (the web server's designer uses 1: OpenMP threads on a machine whose cores
are busy with a running search spin against each other, measured 70x slower on 2 cores, while
one thread stays within 2x of an idle machine).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces.base import IMAGE, LANGUAGE

logger = logging.getLogger(__name__)

MEASURE_BATCH = 16
_LOCK = threading.Lock()


@dataclass(frozen=True)
class StepTiming:
    train_step: float  # seconds for one train step of ``batch`` examples
    forward: float  # seconds for one eval forward of ``batch`` examples
    batch: int = MEASURE_BATCH

    def train_seconds(self, batch: int) -> float:
        return self.train_step * batch / self.batch

    def forward_seconds(self, batch: int) -> float:
        return self.forward * batch / self.batch


def measure_step(space: str, options_json: str, task: TaskSpec, supernet: bool = True,
                 arch_json: str | None = None, device: str = "cpu", threads: int | None = None,
                 batch: int = MEASURE_BATCH) -> StepTiming:
    """Timing of one (space, options, task, network); ``arch_json``: the child's architecture
    (default: a seeded random one). Cached: the same question costs nothing the second time."""
    return _cached(space, options_json, task, supernet, arch_json, device, threads, batch)


def clear_measurements() -> None:
    """Forget the cached timings (a test that changes how networks are built)."""
    _cached.cache_clear()


@lru_cache(maxsize=128)
def _cached(space: str, options_json: str, task: TaskSpec, supernet: bool, arch_json: str | None,
            device: str, threads: int | None, batch: int) -> StepTiming:
    with _LOCK, _torch_threads(threads):
        return _measure(space, json.loads(options_json), task, supernet, arch_json, torch.device(device),
                        batch)


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _measure(space_name: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
             arch_json: str | None, device: torch.device, batch: int) -> StepTiming:
    space = create_space(space_name, **options)
    generator = torch.Generator().manual_seed(0)
    if supernet:
        model = space.build_supernet(task).to(device)

        def run(x: torch.Tensor) -> Any:
            return model(x, space.sample_random(generator))
    else:
        arch = space.arch_from_json(json.loads(arch_json)) if arch_json else space.sample_random(generator)
        model = space.build_child(arch, task).to(device)

        def run(x: torch.Tensor) -> Any:
            return model(x)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = random_batch(task, batch, generator)
    x, y = x.to(device), y.to(device)
    train_times = [_train_step(model, optimizer, run, x, y, device) for _ in range(3)]
    model.eval()
    with torch.no_grad():
        forward_times = [_timed(lambda: run(x), device) for _ in range(2)]
    timing = StepTiming(train_step=min(train_times[1:]), forward=min(forward_times), batch=batch)
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
        raise ValueError(f"no measurement input for task kind {task.kind!r}")
    x = torch.randn(batch, task.in_channels, task.image_size, task.image_size, generator=generator)
    return x, torch.randint(0, task.num_classes, (batch,), generator=generator)


def _train_step(model: nn.Module, optimizer: torch.optim.Optimizer, run: Any,
                x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        output = run(x)
        logits = output[0] if isinstance(output, (tuple, list)) else output  # (logits, aux | hidden)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()

    return _timed(step, device)


def _timed(fn: Any, device: torch.device) -> float:
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
