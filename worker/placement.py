"""Where a search runs: its device class mapped to a torch device, checked on this worker, described.

A ``gpu`` search runs on ``cuda`` (the worker's one visible GPU: a worker per GPU, started with
``CUDA_VISIBLE_DEVICES=<n>``); a ``cpu`` search on ``cpu``, whatever the machine has. A gpu search that
reaches a worker without CUDA (a misconfigured worker taking ``searches.gpu``) fails with a message
that says so, instead of running on the CPU for hours unnoticed.
"""

from __future__ import annotations

import os

from webapp.celery_app import GPU


class NoGpu(ValueError):
    """A gpu-class search on a worker without CUDA; the message is written for the user."""


def torch_device(device_class: str) -> str:
    """The ``device`` the engine gets for a search of ``device_class``."""
    return "cuda" if device_class == GPU else "cpu"


def check_and_describe(device_class: str, worker_name: str) -> str:
    """``"cpu"`` or ``"cuda:0 NVIDIA H100 80GB HBM3"`` for this process; raises ``NoGpu`` when a gpu
    search finds no CUDA device here. Imports torch (only in the process that runs the search)."""
    if device_class != GPU:
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise NoGpu(f"This search needs a GPU, but its worker ({worker_name or 'unknown'}) has no CUDA "
                    f"device (CUDA_VISIBLE_DEVICES={visible!r}, torch {torch.__version__}); it was not run "
                    f"on the CPU instead. Re-run it as a cpu search, or fix the GPU worker.")
    index = torch.cuda.current_device()
    return f"cuda:{index} {torch.cuda.get_device_name(index)}"
