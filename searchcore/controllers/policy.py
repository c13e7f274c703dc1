"""The ENAS / NAS-RL LSTM policy over a space's decisions, apart from any update rule.

The LSTM walks the decisions in order, one step per decision (Pham et al. 2018, Zoph & Le 2017):

- ``op``: softmax over a linear head on the LSTM output; the chosen op's embedding is the next input.
- ``input``: ENAS attention ``v^T tanh(W_prev anchor_j + W_curr h)`` over the anchors of the candidate
  nodes; the chosen anchor is the next input.
- ``skip``: ``sigmoid`` of the same attention per earlier node (NAS-RL); the next input is the mean of
  the chosen anchors. ``Rollout.skip_penalty`` is the ENAS-macro KL pull towards a skip rate.
  This is Zoph & Le's P(j -> i) = sigmoid(v^T tanh(W_prev h_j + W_curr h_i)), the same weights for
  every pair, with two differences. Where ``h_j`` is read: ``h_i`` is the LSTM output at node i's skip
  step and ``h_j`` is node j's anchor, one extra LSTM step taken once node j's decisions are made (in
  the paper and ENAS' macro controller, node j's anchor is the output of its own skip step). Scale:
  the logit ``v^T tanh(...)`` goes through ``temperature`` and ``tanh_constant`` first, as every logit
  here (ENAS' bounding; the defaults keep P within sigmoid(+-1.1) = [0.25, 0.75]); with both options
  off (empty or 0) it is the paper's sigmoid itself.

Anchors: a group's ``initial_nodes`` get one each up front (the LSTM run on the start token, as in ENAS
micro); every later node gets one once its decisions are made, by one more LSTM step. Each choice is
the next step's input, also in a group without initial nodes before its first anchor exists (until
issue 8 those steps were fed the start token, so enas-macro's layer-0 op never reached the LSTM and
anchor 0 knew nothing of it; the fix changed enas-macro's samples for a given seed).

Three ways through the same walk: ``sample`` draws each decision with the caller's ``torch.Generator``
(never the global RNG), ``greedy`` takes the most likely value, and ``evaluate`` scores GIVEN values
under the current parameters (teacher forcing), which is what a PPO-style rule needs for the
log-probabilities of stored samples under an updated policy. All are batched; the same values give
the same log-probability and entropy whichever way they were chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.controllers._choose import Choose, Given, Greedy, Sampled
from searchcore.schema import Option, Schema
from searchcore.spaces.base import Decision, DecisionValue

POLICY_OPTIONS = (
    Option("lstm_size", "int", 64, "hidden size of the controller LSTM", 8, 1024),
    Option("lstm_layers", "int", 1, "stacked LSTM layers", 1, 4),
    Option("temperature", "float", 5.0, "logits are divided by this (empty or 0: off)", 0, 1000,
           nullable=True),
    Option("tanh_constant", "float", 1.10, "logits become c * tanh(logits), bounding them (empty or 0: off)",
           0, 100, nullable=True),
    Option("op_tanh_reduce", "float", 2.5, "op logits use tanh_constant divided by this (ENAS: 2.5)", 0.01,
           100),
)
POLICY_SCHEMA = Schema("controller policy", POLICY_OPTIONS)
PolicyOptions = POLICY_SCHEMA.make_dataclass("PolicyOptions")
PolicyOptions.__module__ = __name__


def policy_options(options: Any) -> Any:
    """The ``PolicyOptions`` part of a controller's options (any object with those attributes)."""
    return PolicyOptions(**{name: getattr(options, name) for name in POLICY_SCHEMA.names()})


@dataclass
class Rollout:
    """A batch of ``B`` architectures and their scores under the policy that chose or scored them."""

    values: list[list[DecisionValue]]  # B lists, one value per decision
    log_prob: torch.Tensor  # (B,) summed over decisions
    entropy: torch.Tensor  # (B,) summed over decisions (nats)
    skip_probs: list[torch.Tensor]  # one (B, K) tensor of sigmoid probabilities per non-empty skip
    decision_log_probs: list[torch.Tensor]  # one (B,) term per decision; they sum to ``log_prob``

    def skip_penalty(self, target: float) -> torch.Tensor:
        """(B,) KL of each skip probability from ``target``, summed (ENAS macro's skip penalty)."""
        penalty = torch.zeros(self.log_prob.size(0))
        for p in self.skip_probs:
            kl = p * torch.log(p / target + 1e-8) + (1 - p) * torch.log((1 - p) / (1 - target) + 1e-8)
            penalty = penalty + kl.sum(-1)
        return penalty


class LSTMPolicy(nn.Module):
    """Parameters are initialised from ``seed`` (uniform in [-0.1, 0.1], ENAS) without touching the
    caller's global RNG state. The parameter names are the checkpoint's ``net`` keys."""

    def __init__(self, decisions: Sequence[Decision], options: Any, seed: int = 0) -> None:
        super().__init__()
        self.decisions = list(decisions)
        self.options = options
        size = options.lstm_size
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.start = nn.Parameter(torch.zeros(1, size))
            self.cells = nn.ModuleList(nn.LSTMCell(size, size) for _ in range(options.lstm_layers))
            # One softmax head and embedding per distinct op list, shared by the decisions using it (ENAS).
            self.op_lists = sorted({d.choices for d in self.decisions if d.kind == "op"})
            self.heads = nn.ModuleList(nn.Linear(size, len(c)) for c in self.op_lists)
            self.embeds = nn.ModuleList(nn.Embedding(len(c), size) for c in self.op_lists)
            self.w_prev = nn.Linear(size, size, bias=False)
            self.w_curr = nn.Linear(size, size, bias=False)
            self.v = nn.Linear(size, 1, bias=False)
            for p in self.parameters():
                nn.init.uniform_(p, -0.1, 0.1)

    # -- the three ways through --------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator) -> Rollout:
        """``n`` architectures drawn with ``generator``; log-probabilities keep their graph."""
        if n < 1:
            raise ValueError("sample needs n >= 1")
        return self._walk(n, Sampled(generator))

    def greedy(self) -> list[DecisionValue]:
        """The most likely value at each decision (argmax; a skip flag where p > 0.5)."""
        with torch.no_grad():
            return self._walk(1, Greedy()).values[0]

    def evaluate(self, values: Sequence[Sequence[DecisionValue]]) -> Rollout:
        """Log-probability, entropy and skip probabilities of the given architectures (teacher
        forcing, one batch); ``ValueError`` for a value its decision does not allow."""
        if not values:
            raise ValueError("evaluate needs at least one architecture")
        for row in values:
            if len(row) != len(self.decisions):
                raise ValueError(f"expected {len(self.decisions)} decision values, got {len(row)}")
            for d, v in zip(self.decisions, row, strict=True):
                d.validate(v)
        return self._walk(len(values), Given(self.decisions, values))

    # -- the walk ----------------------------------------------------------------------------
    def _walk(self, n: int, choose: Choose) -> Rollout:
        size = self.options.lstm_size
        start = self.start.expand(n, size)
        state = [(torch.zeros(n, size), torch.zeros(n, size)) for _ in self.cells]
        x = start
        anchors: dict[str, list[torch.Tensor]] = {}
        keys: dict[str, list[torch.Tensor]] = {}
        log_prob, entropy = torch.zeros(n), torch.zeros(n)
        skip_probs: list[torch.Tensor] = []
        terms: list[torch.Tensor] = []
        columns: list[list[DecisionValue]] = []
        for j, d in enumerate(self.decisions):
            if d.group not in anchors:  # a group starts from the start token; within it, each choice
                x = start  # is the next input, also before its first anchor (a layer stack's layer 0)
            group_anchors = anchors.setdefault(d.group, [])
            group_keys = keys.setdefault(d.group, [])
            need = max(d.node, 0 if d.kind == "op" else len(d.choices))
            while len(group_anchors) < need:  # initial nodes, then each finished node
                h = self._step(x, state)
                group_anchors.append(h)
                group_keys.append(self.w_prev(h))
                x = start
            h = self._step(x, state)
            if d.kind == "op":
                x, lp, ent, chosen = self._op(j, d, h, choose)
            elif d.kind == "input":
                x, lp, ent, chosen = self._input(j, d, h, group_anchors, group_keys, choose)
            else:
                x, lp, ent, chosen, p = self._skip(j, d, h, group_anchors, group_keys, choose)
                if p is not None:
                    skip_probs.append(p)
            log_prob, entropy = log_prob + lp, entropy + ent
            terms.append(lp)
            columns.append(chosen)
        values = [[column[b] for column in columns] for b in range(n)]
        return Rollout(values, log_prob, entropy, skip_probs, terms)

    def _step(self, x: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        for k, cell in enumerate(self.cells):
            state[k] = cell(x, state[k])
            x = state[k][0]
        return x

    def _attend(self, keys: list[torch.Tensor], count: int, h: torch.Tensor) -> torch.Tensor:
        """Scaled attention logits (B, count) of ``h`` over the first ``count`` anchors' keys."""
        logits = self.v(torch.tanh(torch.stack(keys[:count], 1) + self.w_curr(h).unsqueeze(1))).squeeze(-1)
        return self._scale(logits, self.options.tanh_constant)

    def _scale(self, logits: torch.Tensor, tanh_constant: float | None) -> torch.Tensor:
        if self.options.temperature:
            logits = logits / self.options.temperature
        if tanh_constant:
            logits = tanh_constant * torch.tanh(logits)
        return logits

    def _categorical(self, j: int, logits: torch.Tensor, choose: Choose) -> tuple[torch.Tensor, ...]:
        logp_all = F.log_softmax(logits, dim=-1)
        probs = logp_all.exp()
        idx = choose.index(j, probs)
        lp = logp_all.gather(1, idx.unsqueeze(1)).squeeze(1)
        return idx, lp, -(probs * logp_all).sum(-1)

    def _op(self, j: int, d: Decision, h: torch.Tensor, choose: Choose) -> tuple[Any, ...]:
        k = self.op_lists.index(d.choices)
        tanh_c = (self.options.tanh_constant or 0.0) / self.options.op_tanh_reduce
        idx, lp, ent = self._categorical(j, self._scale(self.heads[k](h), tanh_c), choose)
        return self.embeds[k](idx), lp, ent, [int(i) for i in idx]

    def _input(self, j: int, d: Decision, h: torch.Tensor, anchors: list[torch.Tensor],
               keys: list[torch.Tensor], choose: Choose) -> tuple[Any, ...]:
        count = len(d.choices)
        idx, lp, ent = self._categorical(j, self._attend(keys, count, h), choose)
        chosen = torch.stack(anchors[:count], 1)[torch.arange(h.size(0)), idx]
        return chosen, lp, ent, [int(i) for i in idx]

    def _skip(self, j: int, d: Decision, h: torch.Tensor, anchors: list[torch.Tensor],
              keys: list[torch.Tensor], choose: Choose) -> tuple[Any, ...]:
        count = len(d.choices)
        if count == 0:
            zero = torch.zeros(h.size(0))
            return torch.zeros_like(h), zero, zero, [() for _ in range(h.size(0))], None
        logits = self._attend(keys, count, h)
        p = torch.sigmoid(logits)
        flags = choose.flags(j, p)
        lp = -F.binary_cross_entropy_with_logits(logits, flags, reduction="none").sum(-1)
        ent = F.binary_cross_entropy_with_logits(logits, p, reduction="none").sum(-1)
        chosen_sum = (flags.unsqueeze(-1) * torch.stack(anchors[:count], 1)).sum(1)
        nxt = chosen_sum / (1.0 + flags.sum(-1, keepdim=True))
        chosen = [tuple(int(f) for f in row) for row in flags.tolist()]
        return nxt, lp, ent, chosen, p


__all__ = ["POLICY_OPTIONS", "POLICY_SCHEMA", "LSTMPolicy", "PolicyOptions", "Rollout", "policy_options"]
