"""How ``LSTMPolicy``'s walk picks each decision's value: drawn, most likely, or given.

The walk computes the same distributions whichever is used; only the chosen index (categorical
decisions) or flags (skip decisions) come from here, so a given value's log-probability is the one
it had when it was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch

from searchcore.spaces.base import Decision, DecisionValue


class Choose(Protocol):
    def index(self, j: int, probs: torch.Tensor) -> torch.Tensor:
        """(B,) long indices for decision ``j`` given its (B, C) probabilities."""

    def flags(self, j: int, p: torch.Tensor) -> torch.Tensor:
        """(B, K) 0/1 float flags for skip decision ``j`` given its (B, K) probabilities."""


class Sampled:
    """Draws with the caller's generator (multinomial / Bernoulli on detached probabilities)."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def index(self, j: int, probs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(probs.detach(), 1, generator=self.generator).squeeze(1)

    def flags(self, j: int, p: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(p.detach(), generator=self.generator)


class Greedy:
    """The most likely value: argmax, and a skip flag wherever p > 0.5."""

    def index(self, j: int, probs: torch.Tensor) -> torch.Tensor:
        return probs.argmax(dim=-1)

    def flags(self, j: int, p: torch.Tensor) -> torch.Tensor:
        return (p > 0.5).float()


class Given:
    """Teacher forcing: the values of ``B`` given architectures, one column per decision."""

    def __init__(self, decisions: Sequence[Decision], values: Sequence[Sequence[DecisionValue]]) -> None:
        self.columns = [_column(d, [row[j] for row in values]) for j, d in enumerate(decisions)]

    def index(self, j: int, probs: torch.Tensor) -> torch.Tensor:
        return self.columns[j]

    def flags(self, j: int, p: torch.Tensor) -> torch.Tensor:
        return self.columns[j].to(p.dtype)


def _column(d: Decision, values: list[Any]) -> torch.Tensor:
    """(B,) long indices, or (B, K) float flags for a skip decision (values already validated)."""
    if d.kind == "skip":
        flags = [[float(f) for f in value] for value in values]
        return torch.tensor(flags, dtype=torch.float32).reshape(len(values), len(d.choices))
    return torch.tensor([int(value) for value in values], dtype=torch.long)
