"""What a trained model costs where it is deployed: its parameters and its latency per image.

Recorded in every final training's metrics, so the results and comparison pages can set a searched
model beside the hand-designed baseline on more than accuracy. Latency is measured on the CPU at
batch 1 (how the download package's ``predict.py`` runs it) by ``planning.latency.latency_ms``, on
the machine that trained it: comparable between runs of one machine, not across machines.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from searchcore.planning.latency import latency_ms
from searchcore.spaces import TaskSpec

LATENCY_DEVICE = "cpu"
LATENCY_BATCH = 1


def footprint(model: nn.Module, task: TaskSpec) -> dict[str, Any]:
    """``{"params", "latency_ms", "latency_device", "latency_batch"}`` of ``model`` (left unchanged)."""
    params = sum(p.numel() for p in model.parameters())
    on_cpu = model if all(p.device.type == "cpu" for p in model.parameters()) else copy.deepcopy(model).cpu()
    ms = latency_ms(on_cpu, task, LATENCY_DEVICE, batch=LATENCY_BATCH)
    return {"params": int(params), "latency_ms": round(ms, 4), "latency_device": LATENCY_DEVICE,
            "latency_batch": LATENCY_BATCH}


__all__ = ["footprint"]
