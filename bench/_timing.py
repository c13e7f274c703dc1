"""Timing helpers for the CPU benchmarks: load waiting, peak RSS, training steps, data paths.

The ResNet-20 reference network is the ``resnet20`` space's (``searchcore.spaces.resnet.ResNet20``).

The machine these run on is shared, so every timing bench records the load average at its start
and end and reports times as ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

DATA_DIR = Path("/work/shared/data")
CIFAR_TRAIN = DATA_DIR / "cifar10_subset_train.zip"
CIFAR_TEST = DATA_DIR / "cifar10_subset_test.zip"


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def wait_for_low_load(threshold: float = 1.5, max_wait_s: float = 600.0, poll_s: float = 30.0) -> list[float]:
    """Wait (up to ``max_wait_s``) until the 1-minute load average is below ``threshold``.

    Returns the load average when measuring starts; measuring goes ahead when the wait runs out
    (the load is reported either way)."""
    deadline = time.monotonic() + max_wait_s
    while True:
        load = load_average()
        if load[0] < threshold or time.monotonic() >= deadline:
            if load[0] >= threshold:
                logger.warning("load average %s still >= %s; measuring anyway", load, threshold)
            return load
        logger.info("load average %s >= %s; waiting %ss", load, threshold, poll_s)
        time.sleep(poll_s)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process's address space.

    Linux: ``VmHWM`` from ``/proc/self/status``. Not ``ru_maxrss``: Linux carries it over
    ``execve``, so a subprocess started by a large parent reports at least the parent's peak.
    Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux
        return peak_rss_bytes()


def gib(n: float) -> float:
    return n / 2**30


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sgd_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
             grad_clip: float = 5.0) -> torch.Tensor:
    """One training step with the shared evaluator's recipe (CE loss, grad clip, SGD step)."""
    loss = F.cross_entropy(model(x).float(), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()


def sgd(model: nn.Module, lr: float = 0.05, weight_decay: float = 1e-4) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
