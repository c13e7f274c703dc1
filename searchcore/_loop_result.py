"""``SearchResult`` and ``result.json`` (private helper of ``searchcore.loop``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchcore._loop_state import check_same_config


@dataclass(frozen=True)
class SearchResult:
    space: str
    best_arch: dict[str, Any] | None
    best_reward: float | None
    status: str  # succeeded | cancelled | failed
    epochs: int
    archs_evaluated: int
    elapsed_seconds: float
    last_seq: int = 0  # the emitter's last seq: a following stage continues the numbering
    message: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        best = None
        if self.best_arch is not None:
            best = {"architecture": self.best_arch, "reward": self.best_reward}
        return {"space": self.space, "best": best, "status": self.status, "message": self.message,
                "epochs": self.epochs, "archs_evaluated": self.archs_evaluated,
                "elapsed_seconds": round(self.elapsed_seconds, 3), "last_seq": self.last_seq,
                "config": self.config}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        best = data.get("best") or {}
        return cls(space=data["space"], best_arch=best.get("architecture"), best_reward=best.get("reward"),
                   status=data["status"], epochs=int(data.get("epochs", 0)),
                   archs_evaluated=int(data.get("archs_evaluated", 0)),
                   elapsed_seconds=float(data.get("elapsed_seconds", 0.0)),
                   last_seq=int(data.get("last_seq", 0)), message=str(data.get("message", "")),
                   config=dict(data.get("config") or {}))


def write_result(path: Path, data: dict[str, Any]) -> None:
    """Atomic write, so a reader never sees half a ``result.json``."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def read_result(path: Path) -> SearchResult | None:
    """The stored result, or ``None`` when there is none (or it cannot be parsed)."""
    if not path.exists():
        return None
    try:
        return SearchResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        return None


def read_success(path: Path, config_dict: dict[str, Any], where: str) -> SearchResult | None:
    """The stored result when it is a success of this same search, else ``None``."""
    result = read_result(path)
    if result is None or result.status != "succeeded":
        return None
    check_same_config(result.config, config_dict, where)
    return result
