"""Peak GPU memory of a shared-weight training step vs its standalone child (``bench.gpu_epoch``).

Both run from the same resident data (the train split on the device and the same batches) with the
shared evaluator's step recipe, one after the other with the cache emptied between them;
``torch.cuda.max_memory_allocated`` is read after ``--mem-steps`` steps. ``growth`` is the peak minus
what was allocated before the model was built (the data): weights, gradients, optimiser state and
activations. On CPU the steps run (so the path is checked) and the peaks are None.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable
from typing import Any

import torch

from searchcore.accel import autocast, device_loader, resolve_autocast
from searchcore.data.dataset import ImageDataset
from searchcore.spaces import create_space


def free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory(data: ImageDataset, space_options: dict[str, Any], batch: int, args: argparse.Namespace,
                device: torch.device) -> dict[str, Any]:
    """Peak allocated bytes over ``--mem-steps`` steps: standalone child, then the supernet on the
    same architecture and batches. On CPU the steps run (the path is checked) and peaks are None."""
    space = create_space("enas-micro", **space_options)
    arch = space.sample_random(torch.Generator().manual_seed(args.seed))
    loader = device_loader(data.train, batch, mean=data.mean, std=data.std, device=device, seed=args.seed,
                           augment=True, channels_last=True, drop_last=True)
    batches = [b for _, b in zip(range(args.mem_steps), loader, strict=False)]
    resident = _allocated(device)
    amp = resolve_autocast(args.amp, device)
    out: dict[str, Any] = {"batch": batch, "resident_bytes": resident}
    child = space.build_child(arch, data.task()).to(device).to(memory_format=torch.channels_last)
    out["child"] = _measure(child, child, batches, device, resident, amp)
    del child
    free(device)
    supernet = space.build_supernet(data.task()).to(device).to(memory_format=torch.channels_last)
    out["shared"] = _measure(supernet, lambda x, net=supernet: net(x, arch), batches, device, resident, amp,
                             all_momentum=True)
    del supernet
    free(device)
    if out["child"]["peak_bytes"] is not None:
        out["ratio_total"] = out["shared"]["peak_bytes"] / out["child"]["peak_bytes"]
        out["ratio_without_data"] = out["shared"]["growth_bytes"] / out["child"]["growth_bytes"]
    return out


def _allocated(device: torch.device) -> int | None:
    return torch.cuda.memory_allocated(device) if device.type == "cuda" else None


def _measure(model: torch.nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], batches: list,
             device: torch.device, resident: int | None, amp: bool,
             all_momentum: bool = False) -> dict[str, Any]:
    """Training steps with the shared evaluator's recipe (bf16 forward, fp32 loss, SGD + Nesterov,
    clip 5). ``all_momentum``: every weight starts with a momentum buffer, as a supernet's do once
    the search has visited every op (a short measurement would otherwise count only the path's)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    if all_momentum:
        for p in model.parameters():
            optimizer.state[p]["momentum_buffer"] = torch.zeros_like(p)
    model.train()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for x, y in batches:
        with autocast(amp, device):
            logits = forward(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    synchronize(device)
    if device.type != "cuda":
        return {"peak_bytes": None, "growth_bytes": None}
    peak = torch.cuda.max_memory_allocated(device)
    return {"peak_bytes": peak, "growth_bytes": peak - (resident or 0)}
