"""What the planner decided, in the form the loops, the events and the designer read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SearchPlan:
    """The search proxy for a time budget and what it is expected to buy."""

    space_options: dict[str, Any]  # the proxy's size options (merged over the user's by the loop)
    batch_size: int
    seconds_per_epoch: float
    epochs: float  # expected search epochs within the budget (derive and measuring excluded)
    controller_steps: int  # expected controller updates
    derive_seconds: float
    meaningful: bool  # the budget buys the minimum epochs and controller steps
    minimum_budget_seconds: float  # the smallest budget that would (with the smallest proxy)
    message: str  # one sentence for the designer and the live page
    measured: list[dict[str, Any]] = field(default_factory=list)  # rung -> seconds per epoch
    # children trained from scratch (``planning.children``): each child's time cap; ``seconds_per_epoch``
    # and ``epochs`` are then a child's, ``derive_seconds`` one child's cost
    child_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchPlan:
        return cls(**data)


@dataclass(frozen=True)
class FinalPlan:
    """The final child's size and batch for a time budget and the epochs it is expected to get."""

    overrides: dict[str, Any]  # ``build_child`` overrides (channels, cells_per_stage, ...)
    batch_size: int
    seconds_per_epoch: float
    epochs: float
    meaningful: bool
    minimum_budget_seconds: float
    message: str
    measured: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
