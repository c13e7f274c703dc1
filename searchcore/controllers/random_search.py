"""Controller ``random``: uniform random search, the baseline every controller must beat."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import torch

from searchcore.controllers import register_controller
from searchcore.controllers.base import Controller, ControllerStats
from searchcore.schema import Schema
from searchcore.spaces.base import Decision, DecisionValue

logger = logging.getLogger(__name__)


@register_controller("random")
class RandomController(Controller):
    """Samples every decision uniformly with its own seeded ``torch.Generator``; takes no options."""

    name = "random"
    summary = "Random search: the baseline every controller has to beat."
    schema = Schema("random controller")

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                 seed: int = 0) -> None:
        super().__init__(decisions, initial_nodes)
        self.generator = torch.Generator()
        self.generator.manual_seed(int(seed))
        self.steps = 0
        self._pending = 0
        # Entropy of the uniform policy: log(#choices) per op/input, len(choices)*log 2 per skip.
        self.entropy = sum(
            len(d.choices) * math.log(2) if d.kind == "skip" else math.log(len(d.choices))
            for d in self.decisions
        )

    def _sample_one(self) -> list[DecisionValue]:
        values: list[DecisionValue] = []
        for d in self.decisions:
            if d.kind == "skip":
                flags = torch.randint(0, 2, (len(d.choices),), generator=self.generator).tolist()
                values.append(tuple(int(f) for f in flags))
            else:
                values.append(int(torch.randint(0, len(d.choices), (1,), generator=self.generator)))
        return values

    def sample(self, n: int = 1) -> list[list[DecisionValue]]:
        self._pending = n
        return [self._sample_one() for _ in range(n)]

    def update(self, rewards: Sequence[float]) -> ControllerStats:
        if not rewards:
            raise ValueError("update needs at least one reward")
        self.steps += 1
        mean = float(sum(rewards) / len(rewards))
        return ControllerStats(reward=mean, baseline=mean, entropy=self.entropy, loss=0.0,
                               log_prob=-self.entropy)

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "steps": self.steps, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        self.generator.set_state(state["generator"])

