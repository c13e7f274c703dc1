"""``SearchResult``: what a search returns and what ``result.json`` holds (see ``store``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
