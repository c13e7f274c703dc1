"""A batch loader whose data, randomness and augmentation all stay on the device.

``data.BatchLoader`` already moves a split's uint8 images to the device once and builds each batch
with tensor ops there (one ``index_select``, one ``gather`` for crop + flip, one multiply-add for
normalisation; no DataLoader workers, no per-image Python). What it needs from the caller is a
generator on the same device; this factory supplies it, so an epoch makes no host-to-device copy
after the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from searchcore.accel.rng import augmentation_generator, device_generator
from searchcore.data.dataset import ImageSplit
from searchcore.data.loader import BatchLoader


def device_loader(split: ImageSplit, batch_size: int, *, mean: Sequence[float], std: Sequence[float],
                  device: torch.device, seed: int | None = None, generator: torch.Generator | None = None,
                  shuffle: bool = True, augment: bool = False, drop_last: bool = False,
                  channels_last: bool = False) -> BatchLoader:
    """``BatchLoader`` over ``split`` on ``device`` with its randomness on ``device`` too.

    Give ``seed`` (a fresh generator) or ``generator`` (reused as is when it is on ``device``'s
    type, which keeps CPU runs' random streams unchanged; otherwise seeded from it).
    """
    if (seed is None) == (generator is None):
        raise ValueError("give exactly one of seed or generator")
    if generator is None:
        generator = device_generator(int(seed), device)  # type: ignore[arg-type]
    else:
        generator = augmentation_generator(generator, device)
    return BatchLoader(split, batch_size, mean=mean, std=std, device=device, shuffle=shuffle, augment=augment,
                       generator=generator, drop_last=drop_last, channels_last=channels_last)
