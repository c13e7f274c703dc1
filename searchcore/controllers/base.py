"""The controller contract: ``sample()`` architectures, ``update(rewards)`` the policy.

A controller sees only the space's decision list (``searchcore.spaces.Decision``), never the
networks, so any controller works with any space. ``sample(n)`` returns ``n`` lists of decision
values and remembers what it needs (log-probabilities, entropies) for the next ``update``;
``update(rewards)`` takes one reward per sample of the last ``sample`` call, in the same order.

Each registered class declares ``summary`` (one line of user-facing help for the CLI and the
designer) and ``schema`` (its options: types, defaults, ranges), so options are checked and
described without building a controller.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from searchcore.schema import Schema
from searchcore.spaces.base import Decision, DecisionValue


@dataclass(frozen=True)
class ControllerStats:
    """What one ``update`` did; the search loop forwards it as a ``controller_step`` event."""

    reward: float  # mean raw reward of the batch
    baseline: float  # EMA baseline after the update (equal to reward for controllers without one)
    entropy: float  # mean policy entropy of the sampled batch (nats)
    loss: float
    log_prob: float  # mean log-probability of the sampled architectures

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


class Controller(abc.ABC):
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one line for ``--help`` and the designer
    schema: ClassVar[Schema] = Schema("controller")  # the user-settable options

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None) -> None:
        self.decisions = list(decisions)
        self.initial_nodes = dict(initial_nodes or {})

    @classmethod
    def build(cls, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None, seed: int = 0,
              **options: Any) -> Controller:
        """A controller from user options, checked by ``schema`` first (``OptionsError`` names each
        bad one). Classes whose constructor takes an options object override this."""
        return cls(decisions, initial_nodes, seed=seed, **cls.schema.parse(options, fill_defaults=False))

    @abc.abstractmethod
    def sample(self, n: int = 1) -> list[list[DecisionValue]]:
        """Sample ``n`` architectures as decision values; remembered for ``update``."""

    @abc.abstractmethod
    def update(self, rewards: Sequence[float]) -> ControllerStats:
        """One policy step on the rewards of the last ``sample`` call."""

    def greedy(self) -> list[DecisionValue]:
        """Most likely architecture (argmax at each decision); random controllers sample."""
        return self.sample(1)[0]

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimiser, baseline, counters, RNG."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
