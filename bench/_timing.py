"""Timing helpers for the CPU benchmarks: load waiting, peak RSS, ResNet-20 reference, data paths.

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


# -- ResNet-20 (He et al. 2016, CIFAR variant): the hand-designed reference --------------------
class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:  # option B: 1x1 projection
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x), inplace=True)


class ResNet20(nn.Module):
    """3 stages x 3 basic blocks, 16/32/64 channels, global average pool, linear (0.27 M params)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, depth: int = 20) -> None:
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        c_in = 16
        for stage, c in enumerate((16, 32, 64)):
            for i in range(n):
                layers.append(_Block(c_in, c, 2 if stage > 0 and i == 0 else 1))
                c_in = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


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
