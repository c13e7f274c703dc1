"""bf16 autocast where it helps: on CUDA by default, never silently on CPU.

Only the network's forward runs under autocast; callers compute the loss on ``logits.float()``
outside the context and accumulate metrics in fp32/int64 (``meters``), and the controller never
runs inside it, so its sampling and REINFORCE update stay fp32. On CPU, bf16 autocast is slower
for these small convolutions and changes the numbers, so ``"auto"`` keeps it off there;
``"on"`` forces it (tests use it to exercise the bf16 path without a GPU).
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

AUTOCAST_CHOICES = ("auto", "on", "off")


def resolve_autocast(option: bool | str | None, device: torch.device) -> bool:
    """Whether to autocast on ``device``. ``True``/``None``/``"auto"``: on CUDA only; ``"on"``: always;
    ``False``/``"off"``: never. Anything else is a clear error."""
    if option is None or option is True or option == "auto":
        return device.type == "cuda"
    if option is False or option == "off":
        return False
    if option == "on":
        return True
    raise ValueError(f"autocast must be one of {', '.join(AUTOCAST_CHOICES)} (or true/false), not {option!r}")


def autocast(enabled: bool, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast for ``device``'s type when ``enabled``, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
