"""Peak GPU memory of a shared-weight training step vs its standalone child (``bench.gpu_epoch``).

Both run from the same resident data (the train split on the device and the same batches), one
after the other with the cache emptied between them; ``torch.cuda.max_memory_allocated`` is read
after ``--mem-steps`` steps. ``growth`` is the peak minus what was allocated before the model was
built (the data), i.e. weights, gradients, optimiser state and activations. On CPU the steps run
(so the path is checked) and the peaks are None.
"""

from __future__ import annotations

import argparse
import gc
from typing import Any

import torch

from searchcore.accel import autocast, device_loader, resolve_autocast
from searchcore.data.dataset import ImageDataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
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
    out: dict[str, Any] = {"batch": batch, "resident_bytes": resident}
    child = space.build_child(arch, data.task()).to(device).to(memory_format=torch.channels_last)
    out["child"] = _measure(child, batches, device, resident, amp=resolve_autocast(args.amp, device))
    del child
    free(device)
    context = EvaluatorContext(space=space, device=device, seed=args.seed, data=data)
    shared = create_evaluator("shared", context=context, batch_size=batch, amp=args.amp)
    out["shared"] = _measure(None, batches, device, resident, shared=shared, arch=arch)
    del shared
    free(device)
    if out["child"]["peak_bytes"] is not None:
        out["ratio_total"] = out["shared"]["peak_bytes"] / out["child"]["peak_bytes"]
        out["ratio_without_data"] = out["shared"]["growth_bytes"] / out["child"]["growth_bytes"]
    return out


def _allocated(device: torch.device) -> int | None:
    return torch.cuda.memory_allocated(device) if device.type == "cuda" else None


def _measure(model: torch.nn.Module | None, batches: list, device: torch.device, resident: int | None,
             amp: bool = False, shared: Any = None, arch: Any = None) -> dict[str, Any]:
    """Training steps of ``model`` (same recipe as the evaluator's) or of ``shared`` along ``arch``."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    if model is not None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                                    weight_decay=1e-4)
        model.train()
    for x, y in batches:
        if model is None:
            shared._train_step(x, y, arch)
            continue
        with autocast(amp, device):
            logits = model(x)
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
