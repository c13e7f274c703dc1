"""Training schedules for final training: cosine learning rate, ScheduledDropPath, cutout.

All three follow the DARTS/ENAS final-training recipe:

- cosine annealing from the base learning rate to 0 (Loshchilov & Hutter, SGDR), evaluated per
  optimiser step so it reaches ~0 on the last step;
- ScheduledDropPath (Zoph et al. 2018): the drop-path probability grows linearly from 0 to its
  maximum over training; modules read ``drop_path_prob`` in ``forward``, the trainer sets it;
- cutout (DeVries & Taylor 2017): one square per image is zeroed, written with batched torch
  ops (no per-image Python loop) so it runs on the device where the batch lives.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def cosine_lr(base_lr: float, step: int, total_steps: int | None) -> float:
    """``base_lr * 0.5 * (1 + cos(pi * step / total_steps))``; ``base_lr`` while total is unknown."""
    if not total_steps or total_steps <= 0:
        return base_lr
    return cosine_at(base_lr, step / total_steps)


def cosine_at(base_lr: float, fraction: float) -> float:
    """The cosine schedule at ``fraction`` (0..1) of its length."""
    fraction = min(max(fraction, 0.0), 1.0)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * fraction))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def scheduled_drop_path(max_prob: float, epoch: int, epochs: int) -> float:
    """Linear ramp: ``max_prob * epoch / epochs`` (0 in the first epoch), clamped to ``max_prob``."""
    if epochs <= 0 or max_prob <= 0:
        return 0.0
    return max_prob * min(epoch, epochs) / epochs


def set_drop_path(model: nn.Module, prob: float) -> None:
    """Set ``drop_path_prob`` on ``model`` and on every submodule that declares the attribute.

    Children read the probability at forward time (DARTS convention); setting it on submodules too
    means a cell that keeps its own copy sees the same value as the network.
    """
    model.drop_path_prob = float(prob)
    for module in model.modules():
        if module is not model and hasattr(module, "drop_path_prob"):
            module.drop_path_prob = float(prob)


def cutout(x: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero one ``size`` x ``size`` square per image of an ``(N, C, H, W)`` batch (returns a copy).

    The square's centre is uniform over the image, so near the border only part of it is inside,
    as in the reference implementation. Applied after normalisation, zero is the dataset mean.
    Random numbers come from ``generator`` so runs are reproducible; they are drawn on the
    generator's device (a CUDA generator for CUDA batches: no host-to-device copy per step).
    """
    if size <= 0:
        return x
    n, _, h, w = x.shape
    where = generator.device if generator is not None else None
    cy = torch.randint(0, h, (n,), generator=generator, device=where).to(x.device)
    cx = torch.randint(0, w, (n,), generator=generator, device=where).to(x.device)
    half = size // 2
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    in_rows = (rows[None, :] >= (cy - half)[:, None]) & (rows[None, :] < (cy - half + size)[:, None])
    in_cols = (cols[None, :] >= (cx - half)[:, None]) & (cols[None, :] < (cx - half + size)[:, None])
    hole = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    return x.masked_fill(hole[:, None, :, :], 0.0)
