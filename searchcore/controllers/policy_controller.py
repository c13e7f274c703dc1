"""Controllers that sample from an ``LSTMPolicy`` and train it with Adam; subclasses are update rules.

``PolicyController`` owns what every rule on the LSTM policy shares: the policy, its Adam optimiser,
the sampling generator, the rollout of the last ``sample`` call, the step counter and the checkpoint
layout (``name``, ``options``, ``net``, ``optimizer``, ``steps``, ``generator`` plus the rule's own
keys). A rule implements ``update`` (building a loss from ``self.pending(rewards)`` and handing it to
``self.step``) and, if it keeps state such as a baseline, ``rule_state``/``load_rule_state``. A rule
that reuses stored samples (PPO) scores them again with ``self.policy.evaluate(rollout.values)``.

Rewards are multiplied by ``reward_scale`` first: the search uses rewards as the evaluator reports
them (``shared``: accuracy in [0, 1]; ``benchmark``: percent), and the benchmark evaluator suggests
``reward_scale=0.01`` (see ``BenchmarkEvaluator.suggested_controller_options``) so the entropy bonus
and baseline behave the same in both units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from searchcore.controllers.base import Controller
from searchcore.controllers.policy import LSTMPolicy, Rollout, policy_options
from searchcore.schema import Option
from searchcore.spaces.base import Decision, DecisionValue

# Options every rule on the LSTM policy takes (after the policy's own ``POLICY_OPTIONS``).
TRAINING_OPTIONS = (
    Option("lr", "float", 0.0035, "Adam learning rate of the controller", 1e-6, 1.0),
    Option("grad_clip", "float", 5.0, "clip the gradient norm to this (empty or 0: no clipping)", 0, 1e6,
           nullable=True),
    Option("entropy_weight", "float", 1e-4, "entropy bonus added to each reward", 0, 10),
    Option("skip_target", "float", 0.4, "skip-connection rate the skip penalty pulls towards", 0.01, 0.99),
    Option("skip_weight", "float", 0.8, "weight of the skip penalty (0: off)", 0, 100),
    Option("reward_scale", "float", 1.0, "rewards are multiplied by this (0.01 for percent)", 1e-6, 1e6),
)


class PolicyController(Controller):
    """Subclasses set ``Options`` (a ``Schema.make_dataclass`` class holding the policy options and
    ``TRAINING_OPTIONS``) and implement ``update``."""

    Options: ClassVar[type]

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                 seed: int = 0, options: Any = None) -> None:
        super().__init__(decisions, initial_nodes)
        self.options = options if options is not None else self.Options()
        self.generator = torch.Generator()
        self.generator.manual_seed(int(seed))
        self.policy = LSTMPolicy(self.decisions, policy_options(self.options), seed=seed)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.options.lr)
        self.steps = 0
        self._pending: Rollout | None = None

    @classmethod
    def build(cls, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None, seed: int = 0,
              **options: Any) -> Controller:
        return cls(decisions, initial_nodes, seed=seed, options=cls.Options(**cls.schema.parse(options)))

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n: int = 1) -> list[list[DecisionValue]]:
        self._pending = self.policy.sample(n, self.generator)
        return self._pending.values

    def greedy(self) -> list[DecisionValue]:
        return self.policy.greedy()

    # -- for the update rules -----------------------------------------------------------------
    def pending(self, rewards: Sequence[float]) -> Rollout:
        """The last ``sample`` call's rollout, checked against ``rewards``; kept until ``step``."""
        if self._pending is None:
            raise RuntimeError("update() needs a preceding sample()")
        if len(rewards) != len(self._pending.values):
            raise ValueError(f"got {len(rewards)} rewards for {len(self._pending.values)} samples")
        return self._pending

    def step(self, loss: torch.Tensor) -> None:
        """One Adam step on ``loss`` (gradient norm clipped to ``grad_clip``); the rollout is used up."""
        self.optimizer.zero_grad()
        loss.backward()
        if self.options.grad_clip:
            nn.utils.clip_grad_norm_(self.policy.parameters(), self.options.grad_clip)
        self.optimizer.step()
        self.steps += 1
        self._pending = None

    def rule_state(self) -> dict[str, Any]:
        """The update rule's own checkpoint entries (e.g. a baseline)."""
        return {}

    def load_rule_state(self, state: dict[str, Any]) -> None:
        """Restore what ``rule_state`` wrote (``state`` is the whole checkpoint entry)."""

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "options": dataclasses.asdict(self.options),
            "net": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "generator": self.generator.get_state(),
            **self.rule_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.generator.set_state(state["generator"])
        self.load_rule_state(state)
        self._pending = None


__all__ = ["TRAINING_OPTIONS", "PolicyController"]
