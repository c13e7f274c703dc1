"""Search configuration: one frozen dataclass passed explicitly (never a global ``args``)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

_BUDGET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
CONTROLLER_SCHEDULES = ("interleaved", "per_epoch")
LATENCY_MODES = ("soft", "hard")  # the cost-aware reward's exponent (searchcore.search.cost)
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_budget(text: str | float | int) -> float:
    """``"90s"``, ``"20m"``, ``"2h"`` or a number of seconds -> seconds (float > 0)."""
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _BUDGET_RE.match(text)
        if not match:
            raise ValueError(f"budget {text!r} is not like 90s, 20m or 2h")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("budget must be positive")
    return seconds


@dataclass(frozen=True)
class SearchConfig:
    space: str
    data: str  # image zip for image spaces; the nb201 table CSV for evaluator "benchmark"
    space_options: dict[str, Any] = field(default_factory=dict)
    controller: str = "reinforce"
    controller_options: dict[str, Any] = field(default_factory=dict)
    evaluator: str = "shared"
    evaluator_options: dict[str, Any] = field(default_factory=dict)
    budget_seconds: float | None = None  # wall clock for the search phase
    max_archs: int | None = None  # distinct architectures evaluated (benchmark) / controller samples
    max_epochs: int | None = None
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    image_size: int | None = None  # None: the dataset's native side (searchcore.data.native), else 32
    grayscale: bool | None = None  # None: one channel when every image is grayscale
    batch_size: int | None = None  # None: planned from the budget (searchcore.planning), else 64
    plan: bool = True  # with a time budget, choose the proxy's size and batch from measured costs
    controller_steps_per_epoch: int = 30
    derive_samples: int = 16
    # derive may return a degenerate architecture (``space.degenerate_reasons``) when it scores best
    allow_degenerate: bool = False
    archs_per_step: int | None = None  # architectures per controller update; None: the evaluator's
    # "interleaved": the epoch's controller steps are spread over its training steps, so the
    # controller learns from the first minute; "per_epoch": all after the epoch's training (ENAS)
    controller_schedule: str = "interleaved"
    # cost-aware reward (MnasNet): accuracy × (latency / target) ** w, the standalone child's latency
    # measured on the search device (searchcore.search.cost); None: the reward is the accuracy
    latency_target_ms: float | None = None  # milliseconds per image
    latency_weight: float = -0.07  # w of the "soft" mode ("hard": 0 within the target, -1 beyond)
    latency_mode: str = "soft"

    def __post_init__(self) -> None:
        if self.budget_seconds is None and self.max_archs is None and self.max_epochs is None:
            raise ValueError("give a budget: time, number of architectures or epochs")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        for name in ("batch_size", "image_size", "controller_steps_per_epoch", "derive_samples"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.archs_per_step is not None and self.archs_per_step < 1:
            raise ValueError("archs_per_step must be at least 1")
        if self.controller_schedule not in CONTROLLER_SCHEDULES:
            raise ValueError(f"controller_schedule must be one of {', '.join(CONTROLLER_SCHEDULES)}")
        self._check_latency()

    def _check_latency(self) -> None:
        if self.latency_target_ms is not None and not self.latency_target_ms > 0:
            raise ValueError("latency_target_ms must be positive (or None: no latency term)")
        if self.latency_mode not in LATENCY_MODES:
            raise ValueError(f"latency_mode must be one of {', '.join(LATENCY_MODES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown search setting(s): {', '.join(unknown)}")
        return cls(**data)
