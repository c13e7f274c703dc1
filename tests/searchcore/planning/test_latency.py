"""Latency measurement (issue 7, item 6): a larger network measures slower; the mode is kept."""

from __future__ import annotations

import torch
from torch import nn

from searchcore.planning.latency import latency_ms
from searchcore.spaces import TaskSpec

TASK = TaskSpec.image(3, 32, 10)


def _net(width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def test_latency_is_per_image_grows_with_the_network_and_keeps_the_mode() -> None:
    torch.set_num_threads(1)
    small, large = _net(4), _net(128)
    large.train()
    small_ms = latency_ms(small, TASK, repeats=5)
    large_ms = latency_ms(large, TASK, repeats=5)
    assert 0.0 < small_ms < large_ms
    assert large.training  # restored
    per_image = latency_ms(large, TASK, batch=8, repeats=3)
    assert per_image < large_ms * 8  # per image, not per batch
