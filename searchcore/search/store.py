"""Atomic checkpoint files that load with ``torch.load(weights_only=True)``.

A checkpoint is a nested dict of tensors and plain Python values (str, int, float, bool, None,
list, tuple, dict). That is exactly what the safe unpickler of ``weights_only=True`` accepts, so a
checkpoint never executes code when it is loaded. RNG states are stored as the uint8 tensors torch
returns; anything else must be converted to plain types by its owner before it is saved.

Both files of a search's folder are written here, atomically (``searchcore.files``): the
checkpoint and ``result.json`` (``write_result``/``read_result``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

from searchcore.files import atomic_write, atomic_write_json
from searchcore.search.result import SearchResult

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
EVENTS_NAME = "events.jsonl"
RESULT_NAME = "result.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not belong to this search."""


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` atomically to ``path``; returns the path."""
    target = atomic_write(path, lambda fh: torch.save(state, fh))
    logger.debug("checkpoint written to %s", target)
    return target


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint with the safe unpickler; tensors land on the CPU."""
    source = Path(path)
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # a torn or foreign file: say so instead of a pickle traceback
        raise CheckpointError(f"cannot read checkpoint {source}: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {source} does not hold a dict")
    return state


def rng_state() -> dict[str, Any]:
    """Torch's global RNG states (CPU and every CUDA device) as tensors."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def write_result(path: Path, data: dict[str, Any]) -> None:
    """Atomic write, so a reader never sees half a ``result.json``."""
    atomic_write_json(path, data, allow_nan=True)


def read_result(path: Path) -> SearchResult | None:
    """The stored result, or ``None`` when there is none (or it cannot be parsed)."""
    if not path.exists():
        return None
    try:
        return SearchResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        return None
