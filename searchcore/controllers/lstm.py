"""Controller ``reinforce``: the ENAS / NAS-RL LSTM controller trained by REINFORCE.

The LSTM walks the space's decisions in order, one step per decision (Pham et al. 2018, Zoph & Le
2017):

- ``op``: softmax over a linear head on the LSTM output; the chosen op's embedding is the next input.
- ``input``: ENAS attention ``v^T tanh(W_prev anchor_j + W_curr h)`` over the anchors of the candidate
  nodes; the chosen anchor is the next input.
- ``skip``: ``sigmoid`` of the same attention per earlier node (NAS-RL); the next input is the mean of
  the chosen anchors. A KL penalty pulls the skip probability towards ``skip_target`` (ENAS macro).

Anchors: a group's ``initial_nodes`` get one each up front (the LSTM run on the start token, as in ENAS
micro); every later node gets one once its decisions are made, by one more LSTM step.

``update`` does one Adam step on ``-log_prob * (reward + entropy_weight * entropy - baseline)`` with an
EMA baseline. Rewards are multiplied by ``reward_scale`` first; the search uses rewards as the
evaluator reports them (``shared``: accuracy in [0, 1]; ``benchmark``: percent), and the benchmark
evaluator suggests ``reward_scale=0.01`` (see ``BenchmarkEvaluator.suggested_controller_options``) so
the entropy bonus and baseline behave the same in both units. Samples are drawn with the
controller's own ``torch.Generator``; the global RNG is never used.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.controllers import register_controller
from searchcore.controllers.base import Controller, ControllerStats
from searchcore.options import check_option_values
from searchcore.spaces.base import Decision, DecisionValue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReinforceOptions:
    """ENAS defaults. ``temperature``/``tanh_constant`` of ``None`` or 0 switch that scaling off."""

    lstm_size: int = 64
    lstm_layers: int = 1
    temperature: float | None = 5.0
    tanh_constant: float | None = 1.10
    op_tanh_reduce: float = 2.5
    entropy_weight: float = 1e-4
    baseline_decay: float = 0.99
    lr: float = 0.0035
    skip_target: float = 0.4
    skip_weight: float = 0.8
    grad_clip: float = 5.0
    reward_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.lstm_size < 1 or self.lstm_layers < 1:
            raise ValueError("lstm_size and lstm_layers must be at least 1")
        if not 0.0 <= self.baseline_decay < 1.0:
            raise ValueError("baseline_decay must be in [0, 1)")
        if not 0.0 < self.skip_target < 1.0:
            raise ValueError("skip_target must be in (0, 1)")
        if self.lr <= 0 or self.op_tanh_reduce <= 0 or self.reward_scale <= 0:
            raise ValueError("lr, op_tanh_reduce and reward_scale must be positive")


class _PolicyNet(nn.Module):
    def __init__(self, decisions: Sequence[Decision], size: int, layers: int) -> None:
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, size))
        self.cells = nn.ModuleList(nn.LSTMCell(size, size) for _ in range(layers))
        # One softmax head and embedding per distinct op list, shared by the decisions using it (ENAS).
        self.op_lists = sorted({d.choices for d in decisions if d.kind == "op"})
        self.heads = nn.ModuleList(nn.Linear(size, len(c)) for c in self.op_lists)
        self.embeds = nn.ModuleList(nn.Embedding(len(c), size) for c in self.op_lists)
        self.w_prev = nn.Linear(size, size, bias=False)
        self.w_curr = nn.Linear(size, size, bias=False)
        self.v = nn.Linear(size, 1, bias=False)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def step(self, x: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        for k, cell in enumerate(self.cells):
            state[k] = cell(x, state[k])
            x = state[k][0]
        return x

    def attend(self, keys: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """keys (B, K, H) = W_prev anchors; h (B, H) -> logits (B, K)."""
        return self.v(torch.tanh(keys + self.w_curr(h).unsqueeze(1))).squeeze(-1)


@dataclass
class _Rollout:
    values: list[list[DecisionValue]]
    log_prob: torch.Tensor  # (B,)
    entropy: torch.Tensor  # (B,)
    skip_penalty: torch.Tensor  # (B,)


class ReinforceController(Controller):
    name = "reinforce"

    def __init__(self, decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                 seed: int = 0, options: ReinforceOptions | None = None) -> None:
        super().__init__(decisions, initial_nodes)
        self.options = options or ReinforceOptions()
        self.generator = torch.Generator()
        self.generator.manual_seed(int(seed))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.net = _PolicyNet(self.decisions, self.options.lstm_size, self.options.lstm_layers)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.options.lr)
        self.baseline: float | None = None
        self.steps = 0
        self._pending: _Rollout | None = None

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n: int = 1) -> list[list[DecisionValue]]:
        if n < 1:
            raise ValueError("sample needs n >= 1")
        self._pending = self._rollout(n, greedy=False)
        return self._pending.values

    def greedy(self) -> list[DecisionValue]:
        with torch.no_grad():
            return self._rollout(1, greedy=True).values[0]

    def _scale(self, logits: torch.Tensor, tanh_constant: float | None) -> torch.Tensor:
        if self.options.temperature:
            logits = logits / self.options.temperature
        if tanh_constant:
            logits = tanh_constant * torch.tanh(logits)
        return logits

    def _rollout(self, n: int, greedy: bool) -> _Rollout:
        net, size = self.net, self.options.lstm_size
        start = net.start.expand(n, size)
        state = [(torch.zeros(n, size), torch.zeros(n, size)) for _ in net.cells]
        x = start
        anchors: dict[str, list[torch.Tensor]] = {}
        keys: dict[str, list[torch.Tensor]] = {}
        log_prob, entropy, penalty = torch.zeros(n), torch.zeros(n), torch.zeros(n)
        values: list[list[DecisionValue]] = [[] for _ in range(n)]
        for d in self.decisions:
            group_anchors = anchors.setdefault(d.group, [])
            group_keys = keys.setdefault(d.group, [])
            if not group_anchors:
                x = start
            need = max(d.node, 0 if d.kind == "op" else len(d.choices))
            while len(group_anchors) < need:  # initial nodes, then each finished node
                h = net.step(x, state)
                group_anchors.append(h)
                group_keys.append(net.w_prev(h))
                x = start
            h = net.step(x, state)
            if d.kind == "op":
                x, lp, ent, chosen = self._choose_op(d, h, greedy)
            elif d.kind == "input":
                x, lp, ent, chosen = self._choose_input(d, h, group_anchors, group_keys, greedy)
            else:
                x, lp, ent, chosen, pen = self._choose_skip(d, h, group_anchors, group_keys, greedy)
                penalty = penalty + pen
            log_prob, entropy = log_prob + lp, entropy + ent
            for b in range(n):
                values[b].append(chosen[b])
        return _Rollout(values, log_prob, entropy, penalty)

    def _categorical(self, logits: torch.Tensor, greedy: bool) -> tuple[torch.Tensor, ...]:
        logp_all = F.log_softmax(logits, dim=-1)
        probs = logp_all.exp()
        if greedy:
            idx = probs.argmax(dim=-1)
        else:
            idx = torch.multinomial(probs.detach(), 1, generator=self.generator).squeeze(1)
        lp = logp_all.gather(1, idx.unsqueeze(1)).squeeze(1)
        return idx, lp, -(probs * logp_all).sum(-1)

    def _choose_op(self, d: Decision, h: torch.Tensor, greedy: bool) -> tuple[Any, ...]:
        k = self.net.op_lists.index(d.choices)
        tanh_c = (self.options.tanh_constant or 0.0) / self.options.op_tanh_reduce
        idx, lp, ent = self._categorical(self._scale(self.net.heads[k](h), tanh_c), greedy)
        return self.net.embeds[k](idx), lp, ent, [int(i) for i in idx]

    def _choose_input(self, d: Decision, h: torch.Tensor, anchors: list[torch.Tensor],
                      keys: list[torch.Tensor], greedy: bool) -> tuple[Any, ...]:
        count = len(d.choices)
        logits = self._scale(self.net.attend(torch.stack(keys[:count], 1), h), self.options.tanh_constant)
        idx, lp, ent = self._categorical(logits, greedy)
        chosen = torch.stack(anchors[:count], 1)[torch.arange(h.size(0)), idx]
        return chosen, lp, ent, [int(i) for i in idx]

    def _choose_skip(self, d: Decision, h: torch.Tensor, anchors: list[torch.Tensor],
                     keys: list[torch.Tensor], greedy: bool) -> tuple[Any, ...]:
        count = len(d.choices)
        if count == 0:
            zero = torch.zeros(h.size(0))
            return torch.zeros_like(h), zero, zero, [() for _ in range(h.size(0))], zero
        logits = self._scale(self.net.attend(torch.stack(keys[:count], 1), h), self.options.tanh_constant)
        p = torch.sigmoid(logits)
        flags = (p > 0.5).float() if greedy else torch.bernoulli(p.detach(), generator=self.generator)
        lp = -F.binary_cross_entropy_with_logits(logits, flags, reduction="none").sum(-1)
        ent = F.binary_cross_entropy_with_logits(logits, p, reduction="none").sum(-1)
        t = self.options.skip_target
        pen = (p * torch.log(p / t + 1e-8) + (1 - p) * torch.log((1 - p) / (1 - t) + 1e-8)).sum(-1)
        chosen_sum = (flags.unsqueeze(-1) * torch.stack(anchors[:count], 1)).sum(1)
        nxt = chosen_sum / (1.0 + flags.sum(-1, keepdim=True))
        chosen = [tuple(int(f) for f in row) for row in flags.tolist()]
        return nxt, lp, ent, chosen, pen

    # -- learning -----------------------------------------------------------------------------
    def update(self, rewards: Sequence[float]) -> ControllerStats:
        pending = self._pending
        if pending is None:
            raise RuntimeError("update() needs a preceding sample()")
        if len(rewards) != len(pending.values):
            raise ValueError(f"got {len(rewards)} rewards for {len(pending.values)} samples")
        o = self.options
        raw = torch.tensor([float(r) for r in rewards], dtype=torch.float64)
        scaled = (raw * o.reward_scale).float() + o.entropy_weight * pending.entropy.detach()
        mean = float(scaled.mean())
        if self.baseline is None:
            self.baseline = mean
        else:
            self.baseline -= (1.0 - o.baseline_decay) * (self.baseline - mean)
        advantage = scaled - self.baseline
        loss = -(pending.log_prob * advantage).mean() + o.skip_weight * pending.skip_penalty.mean()
        self.optimizer.zero_grad()
        loss.backward()
        if o.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), o.grad_clip)
        self.optimizer.step()
        self.steps += 1
        self._pending = None
        return ControllerStats(reward=float(raw.mean()), baseline=self.baseline / o.reward_scale,
                               entropy=float(pending.entropy.detach().mean()), loss=float(loss.detach()),
                               log_prob=float(pending.log_prob.detach().mean()))

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "options": dataclasses.asdict(self.options),
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "baseline": self.baseline,
            "steps": self.steps,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline = None if state["baseline"] is None else float(state["baseline"])
        self.steps = int(state["steps"])
        self.generator.set_state(state["generator"])
        self._pending = None


@register_controller("reinforce")
def reinforce_controller(decisions: Sequence[Decision], initial_nodes: dict[str, int] | None = None,
                         seed: int = 0, options: ReinforceOptions | None = None,
                         **kwargs: Any) -> ReinforceController:
    """``create_controller("reinforce", decisions=..., seed=S, lr=1e-3, ...)``; unknown options raise."""
    defaults = {f.name: f.default for f in dataclasses.fields(ReinforceOptions)}
    check_option_values("reinforce", defaults, kwargs)
    opts = dataclasses.replace(options or ReinforceOptions(), **kwargs)
    return ReinforceController(decisions, initial_nodes, seed=seed, options=opts)
