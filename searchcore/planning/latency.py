"""Latency of a standalone network on a device: what a deployed model costs per image.

Measured, not modelled (MnasNet measures on the phone it targets): ``warmup`` untimed and then
``repeats`` timed eval forwards of one random input of the task's shape at ``batch`` images, in
inference mode; the median, in milliseconds per image. Used for the cost-aware reward and for the
latency the results and comparison pages show; the same function for every model keeps them
comparable within one machine (not across machines or days: see ``BENCHMARKS.md``).
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from searchcore.planning.costs import random_batch
from searchcore.spaces import TaskSpec


@torch.inference_mode()
def latency_ms(model: nn.Module, task: TaskSpec, device: torch.device | str = "cpu", *, batch: int = 1,
               repeats: int = 5, warmup: int = 2) -> float:
    """Median milliseconds per image of ``model``'s eval forward (its train/eval mode is restored)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    x, _ = random_batch(task, batch, torch.Generator().manual_seed(0))
    x = x.to(device)
    times = []
    try:
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(x)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    return 1000.0 * statistics.median(times) / batch
