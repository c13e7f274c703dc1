"""Counters of a search, their checkpoint form, architecture identity (helper of ``searchcore.search.loop``).

Everything here is stored as tensors or plain Python types so that ``load_checkpoint`` can use
``torch.load(weights_only=True)``. The set of distinct architectures is kept as 64-bit hashes of
their canonical JSON (an int64 tensor): a long ENAS search samples hundreds of thousands of
architectures, and their JSON would make every checkpoint tens of megabytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field
from typing import Any

import torch

from searchcore.config import SearchConfig
from searchcore.search.store import CheckpointError

CHECKPOINT_VERSION = 1


def arch_key(arch_json: dict[str, Any]) -> int:
    """Stable signed 64-bit hash of an architecture's canonical JSON."""
    digest = hashlib.blake2b(json.dumps(arch_json, sort_keys=True).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def unique_archs(archs: list[Any], to_json: Callable[[Any], dict[str, Any]]) -> list[Any]:
    """``archs`` without repeats (the same canonical JSON), in order, first occurrence kept."""
    seen: set[str] = set()
    out = []
    for arch in archs:
        key = json.dumps(to_json(arch), sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(arch)
    return out


@dataclass
class LoopState:
    epoch: int = 0  # epochs finished (an epoch cut short by the budget counts)
    step: int = 0  # controller updates so far
    samples: int = 0  # architectures scored by the controller steps (``archs_per_step`` per update)
    distinct: set[int] = field(default_factory=set)
    best_reward: float | None = None
    best_arch: dict[str, Any] | None = None
    search_done: bool = False  # budget used up: a resumed run goes straight to deriving
    sound_reward: float | None = None  # the best of the architectures that are not degenerate:
    sound_arch: dict[str, Any] | None = None  # derive's fallback when its candidates all are
    # controller steps of the unfinished epoch at a checkpoint between controller steps (an evaluator
    # that trains no weights, e.g. ``scratch``, is checkpointed there); 0 at an epoch's end
    epoch_steps: int = 0

    def record(self, arch_json: dict[str, Any], reward: float, *, degenerate: bool = False) -> bool:
        """Count one evaluated architecture; True when it is a new best (degenerate or not)."""
        self.samples += 1
        self.distinct.add(arch_key(arch_json))
        if not degenerate and (self.sound_reward is None or reward > self.sound_reward):
            self.sound_reward, self.sound_arch = float(reward), arch_json
        if self.best_reward is None or reward > self.best_reward:
            self.best_reward, self.best_arch = float(reward), arch_json
            return True
        return False

    def to_state(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "step": self.step,
            "samples": self.samples,
            "distinct": torch.tensor(sorted(self.distinct), dtype=torch.int64),
            "best_reward": self.best_reward,
            "best_arch": json.dumps(self.best_arch) if self.best_arch is not None else None,
            "search_done": self.search_done,
            "sound_reward": self.sound_reward,
            "sound_arch": json.dumps(self.sound_arch) if self.sound_arch is not None else None,
            "epoch_steps": self.epoch_steps,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LoopState:
        best, sound = state.get("best_arch"), state.get("sound_arch")  # no sound_*: an older checkpoint
        return cls(
            epoch=int(state["epoch"]),
            step=int(state["step"]),
            samples=int(state.get("samples", state["step"])),  # older checkpoints: one sample per step
            distinct={int(v) for v in state["distinct"].tolist()},
            best_reward=None if state["best_reward"] is None else float(state["best_reward"]),
            best_arch=json.loads(best) if best is not None else None,
            search_done=bool(state["search_done"]),
            sound_reward=None if state.get("sound_reward") is None else float(state["sound_reward"]),
            sound_arch=json.loads(sound) if sound is not None else None,
            epoch_steps=int(state.get("epoch_steps", 0)),
        )


def normalised_config(config_dict: dict[str, Any]) -> dict[str, Any]:
    """JSON round trip, so tuples and lists compare equal."""
    return json.loads(json.dumps(config_dict, sort_keys=True))


def check_same_config(saved: dict[str, Any], current: dict[str, Any], where: str) -> None:
    """Raise ``CheckpointError`` naming the settings that differ from the checkpoint's (a setting
    added since, missing from one side and at its default on the other, is no difference)."""
    old, new = normalised_config(saved), normalised_config(current)
    keys = sorted(k for k in set(old) | set(new) if old.get(k, _default(k)) != new.get(k, _default(k)))
    if not keys:
        return
    diffs = "; ".join(f"{k}: {old.get(k)!r} in the checkpoint, {new.get(k)!r} now" for k in keys)
    raise CheckpointError(
        f"{where} holds a checkpoint of a search with other settings ({diffs}); "
        "re-run with the same settings to resume, or choose another output directory"
    )


def _default(name: str) -> Any:
    """The ``SearchConfig`` default of setting ``name`` as JSON (``None`` when it has none)."""
    spec = SearchConfig.__dataclass_fields__.get(name)
    if spec is None or spec.default_factory is not MISSING:
        return None if spec is None else normalised_config({"v": spec.default_factory()})["v"]
    return None if spec.default is MISSING else spec.default


def check_version(state: dict[str, Any], where: str) -> None:
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{where}: checkpoint version {state.get('version')!r} is not supported")
