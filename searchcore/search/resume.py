"""The search checkpoint and rewinding the events to it (used by ``searchcore.search.loop``).

The checkpoint's format lives here alone: ``write_checkpoint`` writes it,
``read_checkpoint`` checks its version and config before anything is touched, and
``restore_checkpoint`` puts the parts, the RNGs and the budget clock back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from searchcore.events import EventSink, JsonlSink
from searchcore.search.budget import Budget
from searchcore.search.cost import LatencyReward
from searchcore.search.result import SearchResult
from searchcore.search.setup import SearchParts
from searchcore.search.state import CHECKPOINT_VERSION, LoopState, check_same_config, check_version
from searchcore.search.store import load_checkpoint, read_result, rng_state, save_checkpoint, set_rng_state


def write_checkpoint(path: Path, *, config_dict: dict[str, Any], state: LoopState, budget: Budget,
                           last_seq: int, parts: SearchParts, generator: torch.Generator,
                           cost: LatencyReward | None = None) -> None:
    save_checkpoint(path, {
        "version": CHECKPOINT_VERSION,
        "config": config_dict,
        "loop": state.to_state(),
        "elapsed": budget.elapsed(),
        "last_seq": last_seq,
        "controller": parts.controller.state_dict(),
        "evaluator": parts.evaluator.state_dict(),
        "rng": rng_state(),
        "generator": generator.get_state(),
        "latency": cost.state_dict() if cost is not None else None,
    })


def restore_checkpoint(checkpoint: dict[str, Any], *, parts: SearchParts, generator: torch.Generator,
                              budget: Budget, cost: LatencyReward | None = None) -> LoopState:
    """Load the controller, evaluator, RNGs, elapsed time and measured latencies; returns the loop's
    counters."""
    parts.controller.load_state_dict(checkpoint["controller"])
    parts.evaluator.load_state_dict(checkpoint["evaluator"])
    set_rng_state(checkpoint["rng"])
    generator.set_state(checkpoint["generator"])
    budget.restart_clock(float(checkpoint["elapsed"]))
    if cost is not None and checkpoint.get("latency"):
        cost.load_state_dict(checkpoint["latency"])
    return LoopState.from_state(checkpoint["loop"])


def read_checkpoint(path: Path, config_dict: dict[str, Any], where: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` (``None`` when there is none); raises ``CheckpointError`` when it
    is of another version or another search."""
    if not path.exists():
        return None
    state = load_checkpoint(path)
    check_version(state, where)
    check_same_config(state["config"], config_dict, where)
    return state


def rewind_events(jsonl: JsonlSink, sink: EventSink | None, checkpoint: dict[str, Any] | None) -> int:
    """Drop the events after the checkpoint's ``last_seq`` (every event when there is no checkpoint)
    from ``events.jsonl`` and from a sink that can; returns that seq, where the stream continues."""
    last_seq = int(checkpoint["last_seq"]) if checkpoint is not None else 0
    if jsonl.path.exists():
        jsonl.truncate_after(last_seq)
    truncate = getattr(sink, "truncate_after", None)
    if callable(truncate):
        truncate(last_seq)
    return last_seq


def read_success(path: Path, config_dict: dict[str, Any], where: str) -> SearchResult | None:
    """The stored result when it is a success of this same search, else ``None``."""
    result = read_result(path)
    if result is None or result.status != "succeeded":
        return None
    check_same_config(result.config, config_dict, where)
    return result
