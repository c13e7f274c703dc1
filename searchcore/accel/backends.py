"""Backend switches that pay on CUDA and mean nothing (or harm reproducibility) on CPU."""

from __future__ import annotations

import torch


def configure_backends(device: torch.device) -> dict[str, bool]:
    """Turn on cuDNN autotuning when ``device`` is CUDA; leave CPU runs untouched.

    The ENAS supernet changes its path every step, but each candidate op always sees the same
    shapes (per cell, per batch size), so the set of distinct convolutions is small and each is
    tuned once, on its first call. The flag is process-wide; a worker runs one search per GPU.
    Returns what was set, for the caller's log or event.
    """
    if device.type != "cuda":
        return {"cudnn_benchmark": False}
    torch.backends.cudnn.benchmark = True
    return {"cudnn_benchmark": True}
