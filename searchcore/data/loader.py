"""Batches on the device: permutation indexing, augmentation and normalisation as tensor ops.

The split's uint8 images are moved to the device once; each batch is one ``index_select``, an
optional crop/flip done with a single ``gather`` for the whole batch (no per-image Python loop)
and one fused multiply-add that converts to normalised float32. Randomness comes only from the
``torch.Generator`` passed in, so a seeded run is repeatable and its state can be checkpointed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from searchcore.data.dataset import ImageSplit


def normalize(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """uint8 (N, C, H, W) -> float32 ``(x / 255 - mean) / std``; mean and std are in 0..1 units."""
    scale, shift = _affine(mean, std, images.device)
    return torch.addcmul(shift, images, scale)


def augment(images: Tensor, generator: torch.Generator, padding: int = 4, flip: bool = True) -> Tensor:
    """Random crop after zero padding by ``padding`` plus a random horizontal flip, per image."""
    n = images.shape[0]
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator, device=generator.device)
    flips = torch.randint(0, 2, (n,), generator=generator, device=generator.device).bool()
    if not flip:
        flips.zero_()
    return crop_flip(images, offsets[0], offsets[1], flips, padding)


def crop_flip(images: Tensor, top: Tensor, left: Tensor, flips: Tensor, padding: int) -> Tensor:
    """Crop each image of the zero-padded batch at (``top``, ``left``), then mirror where ``flips``.

    Equivalent to torchvision's ``RandomCrop(size, padding)`` followed by ``RandomHorizontalFlip``,
    done for the whole batch as one gather of precomputed flat indices.
    """
    n, c, h, w = images.shape
    device = images.device
    top, left, flips = top.to(device), left.to(device), flips.to(device)
    padded = F.pad(images, (padding, padding, padding, padding)) if padding else images
    rows = top[:, None] + torch.arange(h, device=device)  # (N, H)
    cols = torch.arange(w, device=device).expand(n, w)
    cols = torch.where(flips[:, None], w - 1 - cols, cols) + left[:, None]  # (N, W)
    flat = rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]  # (N, H, W)
    index = flat.reshape(n, 1, h * w).expand(n, c, h * w)
    return padded.reshape(n, c, -1).gather(2, index).reshape(n, c, h, w)


class BatchLoader:
    """Iterates ``(x, y)``: x float32 normalised on ``device``, y int64 on ``device``.

    Each iteration is one epoch that visits every sample once (the last short batch is kept
    unless ``drop_last``); with ``shuffle`` the order is a fresh permutation from ``generator``.
    """

    def __init__(
        self,
        split: ImageSplit,
        batch_size: int,
        *,
        mean: Sequence[float],
        std: Sequence[float],
        device: torch.device | str = "cpu",
        shuffle: bool = True,
        augment: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        channels_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.device = torch.device(device)
        self.images = split.images.to(self.device)
        self.labels = split.labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.drop_last = drop_last
        self.channels_last = channels_last
        self._scale, self._shift = _affine(mean, std, self.device)

    def __len__(self) -> int:
        n = int(self.labels.shape[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = int(self.labels.shape[0])
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.generator.device).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for b in range(len(self)):
            index = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self._batch(index), self.labels.index_select(0, index)

    def _batch(self, index: Tensor) -> Tensor:
        x = self.images.index_select(0, index)
        if self.augment:
            x = augment(x, self.generator)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)  # on uint8: 4x less to move than float
        return torch.addcmul(self._shift, x, self._scale)


def _affine(mean: Sequence[float], std: Sequence[float], device: torch.device) -> tuple[Tensor, Tensor]:
    mean_t = torch.tensor(list(mean), dtype=torch.float32, device=device).view(1, -1, 1, 1)
    std_t = torch.tensor(list(std), dtype=torch.float32, device=device).view(1, -1, 1, 1)
    scale = 1.0 / (255.0 * std_t)
    return scale, -mean_t / std_t
