"""Random generators that live where the data lives.

A CPU generator feeding CUDA batches costs a synchronising host-to-device copy per random tensor
(crop offsets, flips, cutout centres: 2-4 per step), which stalls a launch-bound loop. On CUDA
these helpers return a CUDA generator (Philox) seeded from the same seed; on CPU they return
exactly the CPU generator used before, so CPU runs draw the same numbers as they always did. The
two devices draw different streams: a CUDA run is reproducible on CUDA, not bitwise against CPU.
"""

from __future__ import annotations

import logging

import torch

logger = logging.getLogger(__name__)


def device_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on ``device`` (CPU or CUDA) seeded with ``seed``."""
    if device.type == "cuda":
        return torch.Generator(device=device).manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def augmentation_generator(generator: torch.Generator, device: torch.device) -> torch.Generator:
    """``generator`` itself when it already lives on ``device``'s type, else a generator on
    ``device`` seeded with ``generator``'s initial seed (a CPU generator for CUDA batches)."""
    if generator.device.type == device.type:
        return generator
    return device_generator(generator.initial_seed(), device)


def restore_generator(generator: torch.Generator, state: torch.Tensor, fallback_seed: int) -> bool:
    """Load ``state`` into ``generator``; a state saved on another device type (a CUDA checkpoint
    resumed on CPU or the reverse: the two states differ in size) cannot be loaded, so the
    generator is reseeded with ``fallback_seed`` instead and a warning says so. Returns whether
    the saved state was restored. The run goes on either way: only the augmentation stream differs.
    """
    try:
        generator.set_state(state)
        return True
    except (RuntimeError, TypeError, ValueError) as exc:
        logger.warning("random state saved on another device type (%s); reseeding the %s generator with %d",
                       exc, generator.device.type, fallback_seed)
        generator.manual_seed(fallback_seed)
        return False
