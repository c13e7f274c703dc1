"""Controller ``reinforce``: the ENAS / NAS-RL LSTM policy trained by REINFORCE (Williams 1992).

``update`` does one Adam step on ``-mean(log_prob * (reward + entropy_weight * entropy - baseline))
+ skip_weight * mean(skip_penalty)``, where the baseline is an exponential moving average of the
batch's mean bonus-adjusted reward (decay ``baseline_decay``; the first batch sets it). The policy
is ``searchcore.controllers.policy``; rewards are scaled as ``policy_controller`` explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from searchcore.controllers import register_controller
from searchcore.controllers.base import ControllerStats
from searchcore.controllers.policy import POLICY_OPTIONS
from searchcore.controllers.policy_controller import TRAINING_OPTIONS, PolicyController
from searchcore.schema import Option, Schema
from searchcore.spaces.base import Decision

SCHEMA = Schema("reinforce controller", (
    *POLICY_OPTIONS,
    *TRAINING_OPTIONS,
    Option("baseline_decay", "float", 0.99, "decay of the moving-average reward baseline", 0, 0.9999),
))
ReinforceOptions = SCHEMA.make_dataclass("ReinforceOptions")
ReinforceOptions.__module__ = __name__


@register_controller("reinforce")
class ReinforceController(PolicyController):
    name = "reinforce"
    summary = "LSTM controller trained with REINFORCE and a moving-average baseline (NAS-RL, ENAS)."
    schema = SCHEMA
    Options = ReinforceOptions

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                 seed: int = 0, options: Any = None) -> None:
        super().__init__(decisions, initial_nodes, seed=seed, options=options)
        self.baseline: float | None = None

    def update(self, rewards: Sequence[float]) -> ControllerStats:
        rollout = self.pending(rewards)
        o = self.options
        raw = torch.tensor([float(r) for r in rewards], dtype=torch.float64)
        entropy = rollout.entropy.detach()
        scaled = (raw * o.reward_scale).float() + o.entropy_weight * entropy
        mean = float(scaled.mean())
        if self.baseline is None:
            self.baseline = mean
        else:
            self.baseline -= (1.0 - o.baseline_decay) * (self.baseline - mean)
        advantage = scaled - self.baseline
        penalty = rollout.skip_penalty(o.skip_target)
        loss = -(rollout.log_prob * advantage).mean() + o.skip_weight * penalty.mean()
        self.step(loss)
        return ControllerStats(reward=float(raw.mean()), baseline=self.baseline / o.reward_scale,
                               entropy=float(entropy.mean()), loss=float(loss.detach()),
                               log_prob=float(rollout.log_prob.detach().mean()))

    def rule_state(self) -> dict[str, Any]:
        return {"baseline": self.baseline}

    def load_rule_state(self, state: dict[str, Any]) -> None:
        self.baseline = None if state["baseline"] is None else float(state["baseline"])


__all__ = ["SCHEMA", "ReinforceController", "ReinforceOptions"]
