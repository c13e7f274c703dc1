"""Controller ``ppo``: the LSTM policy trained with PPO's clipped surrogate (Schulman et al. 2017),
the update rule NASNet used (Zoph et al. 2018).

One architecture is one episode: the policy's decisions are the actions and the reward arrives at
the end, so the ratio is that of the whole architecture's probability under the current and the
sampling-time policy, ``r = exp(log pi(a) - log pi_old(a))``. Each ``update`` takes the batch of the
last ``sample`` call and does ``ppo_epochs`` Adam steps on

    -mean(min(r * A, clip(r, 1 - clip, 1 + clip) * A)) + skip_weight * mean(skip_penalty)

re-scoring the stored architectures with ``policy.evaluate`` at every epoch (the skip penalty is
that of the current policy). The reward is scaled by ``reward_scale`` and gets the entropy bonus
``entropy_weight * entropy`` of the sampling-time policy, as REINFORCE does; the advantage is
``A = reward - baseline``. With ``ppo_epochs = 1`` and the ``ema`` baseline the gradient is exactly
REINFORCE's (``r = 1`` and ``grad r = grad log pi`` at the sampling-time weights).

Baselines (``baseline``):

- ``ema``: REINFORCE's exponential moving average of the batch's mean reward (decay
  ``baseline_decay``), updated with this batch before the advantage is taken; the first batch sets it.
- ``learned``: a learned value ``V``, trained like PPO's value function: ``ppo_epochs`` Adam steps
  (rate ``value_lr``) per batch on the mean squared error ``(reward - V)^2``, AFTER the advantage was
  taken with the ``V`` of the previous batches (the first batch initialises ``V`` to its mean). ``V``
  is one learned scalar, not a function of the architecture: every episode starts from the same state
  (the start token), and a value that depended on the sampled decisions would bias the gradient.
  Unlike the EMA, whose step is a fixed fraction of the gap, Adam moves ``V`` by about ``value_lr``
  per step whatever the gap's size (up to ``ppo_epochs * value_lr`` per batch), hence the small
  default (rewards in [0, 1] after ``reward_scale``; 0.005 beat 0.02 on bench/nb201.py's tuning seeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from searchcore.controllers import register_controller
from searchcore.controllers.base import ControllerStats
from searchcore.controllers.policy import POLICY_OPTIONS
from searchcore.controllers.policy_controller import TRAINING_OPTIONS, PolicyController
from searchcore.schema import Option, Schema
from searchcore.spaces.base import Decision

BASELINES = ("ema", "learned")

SCHEMA = Schema("ppo controller", (
    *POLICY_OPTIONS,
    *TRAINING_OPTIONS,
    Option("clip", "float", 0.2, "PPO clip range: the probability ratio is clipped to [1 - clip, 1 + clip]",
           0.001, 10),
    Option("ppo_epochs", "int", 4, "policy updates (Adam steps) per batch of sampled architectures", 1, 100),
    Option("baseline", "choice", "ema", "advantage baseline: moving average (ema) or a learned value",
           choices=BASELINES),
    Option("baseline_decay", "float", 0.99, "decay of the moving-average baseline (baseline ema)", 0, 0.9999),
    Option("value_lr", "float", 0.005, "Adam learning rate of the learned value (baseline learned)", 1e-6,
           10),
))
PpoOptions = SCHEMA.make_dataclass("PpoOptions")
PpoOptions.__module__ = __name__


def clipped_surrogate(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantage: torch.Tensor,
                      clip: float) -> torch.Tensor:
    """PPO's clipped objective to MINIMISE: ``-mean(min(r A, clip(r, 1-clip, 1+clip) A))``, with
    ``r = exp(new - old)``; ``old`` and ``advantage`` are constants (no gradient flows into them)."""
    ratio = torch.exp(new_log_prob - old_log_prob.detach())
    advantage = advantage.detach()
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantage
    return -torch.min(unclipped, clipped).mean()


class ScalarValue(nn.Module):
    """The learned baseline: one parameter, trained by MSE on the rewards (see the module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.zeros(()))

    def forward(self) -> torch.Tensor:
        return self.value


@register_controller("ppo")
class PpoController(PolicyController):
    name = "ppo"
    summary = "LSTM controller trained with PPO's clipped objective and an EMA or learned baseline (NASNet)."
    schema = SCHEMA
    Options = PpoOptions

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                 seed: int = 0, options: Any = None) -> None:
        super().__init__(decisions, initial_nodes, seed=seed, options=options)
        self.baseline: float | None = None  # the baseline the next advantage uses (scaled units)
        self.value_head = ScalarValue()
        self.value_optimizer = torch.optim.Adam(self.value_head.parameters(), lr=self.options.value_lr)

    def update(self, rewards: Sequence[float]) -> ControllerStats:
        rollout = self.pending(rewards)
        o = self.options
        raw = torch.tensor([float(r) for r in rewards], dtype=torch.float64)
        entropy = rollout.entropy.detach()
        scaled = (raw * o.reward_scale).float() + o.entropy_weight * entropy
        baseline = self._advantage_baseline(scaled)
        advantage = scaled - baseline
        old_log_prob = rollout.log_prob.detach()
        losses = []
        for _ in range(o.ppo_epochs):
            new = self.policy.evaluate(rollout.values)
            loss = clipped_surrogate(new.log_prob, old_log_prob, advantage, o.clip)
            loss = loss + o.skip_weight * new.skip_penalty(o.skip_target).mean()
            self.step(loss)
            losses.append(float(loss.detach()))
        if o.baseline == "learned":
            self._fit_value(scaled)
        return ControllerStats(reward=float(raw.mean()), baseline=baseline / o.reward_scale,
                               entropy=float(entropy.mean()), loss=losses[0],
                               log_prob=float(old_log_prob.mean()))

    def _advantage_baseline(self, scaled: torch.Tensor) -> float:
        """The baseline for this batch (EMA: updated with it first; learned: the value so far)."""
        mean = float(scaled.mean())
        if self.baseline is None:  # the first batch sets either baseline
            self.baseline = mean
            with torch.no_grad():
                self.value_head.value.fill_(mean)
        elif self.options.baseline == "ema":
            self.baseline -= (1.0 - self.options.baseline_decay) * (self.baseline - mean)
        return self.baseline

    def _fit_value(self, scaled: torch.Tensor) -> None:
        """``ppo_epochs`` Adam steps of the learned value on the batch's mean squared error."""
        target = scaled.detach()
        for _ in range(self.options.ppo_epochs):
            self.value_optimizer.zero_grad()
            loss = ((target - self.value_head()) ** 2).mean()
            loss.backward()
            self.value_optimizer.step()
        self.baseline = float(self.value_head.value.detach())

    def rule_state(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "value_head": self.value_head.state_dict(),
                "value_optimizer": self.value_optimizer.state_dict()}

    def load_rule_state(self, state: dict[str, Any]) -> None:
        self.baseline = None if state["baseline"] is None else float(state["baseline"])
        self.value_head.load_state_dict(state["value_head"])
        self.value_optimizer.load_state_dict(state["value_optimizer"])


__all__ = ["BASELINES", "SCHEMA", "PpoController", "PpoOptions", "ScalarValue", "clipped_surrogate"]
