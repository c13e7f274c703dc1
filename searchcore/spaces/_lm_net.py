"""The word-level language model around a recurrent cell, shared by every language network.

``WordLanguageModel`` owns what the ENAS cell (``_rnn_net``), the NAS-RL tree (``_tree_net``) and the
LSTM baseline (``_lstm_net``) have in common: the embedding with whole-word dropout (AWD
``dropoute``), variational dropout on the embedded input and on the outputs (one mask per sequence,
the same at every step, as ENAS and AWD-LSTM), a linear decoder tied to the embedding when
``tie_weights``, uniform initialisation, the zero state and the checks of ``run``. A subclass adds its
recurrent modules (built between the encoder and the decoder, so parameter names, their order and the
random draws of initialisation are those of each network before this module existed) and
``_recur``: the cell over the whole sequence, from the embedded input and the packed state.

Masks are drawn in a fixed order (words, embedded input, then whatever ``_recur`` draws, then the
outputs), so seeded runs repeat exactly. ``SupernetLM`` and ``ChildLM`` are the two interfaces the
trainers use: ``run_arch(x, arch, hidden)`` and ``run_state(x, hidden)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

INIT_RANGE = 0.1  # uniform initialisation of every weight (pytorch/examples word_language_model)
State = TypeVar("State")


@dataclass(frozen=True)
class Dropouts:
    """Training-time drop probabilities (ENAS PTB search defaults: e/x/h/o keep 0.75/0.25/0.75/0.25)."""

    words: float = 0.25
    embedding: float = 0.75
    hidden: float = 0.25
    output: float = 0.75


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda x: x, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "sin": torch.sin,
}


def activation(name: str, x: torch.Tensor, allowed: tuple[str, ...]) -> torch.Tensor:
    """``name``'s function of ``x``; a name outside the cell's ``allowed`` list is refused by name."""
    if name not in allowed:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(allowed)}")
    return _ACTIVATIONS[name](x)


def _mask(like: torch.Tensor, shape: tuple[int, ...], prob: float, training: bool) -> torch.Tensor | None:
    """A scaled Bernoulli keep-mask, or None when nothing is dropped."""
    if not training or prob <= 0.0:
        return None
    keep = 1.0 - prob
    return like.new_empty(shape).bernoulli_(keep) / keep


def variational(seq: torch.Tensor, prob: float, training: bool) -> torch.Tensor:
    """``seq`` (steps, batch, width) times one dropout mask per sequence, the same at every step."""
    mask = _mask(seq, (1, seq.shape[1], seq.shape[2]), prob, training)
    return seq if mask is None else seq * mask


def unroll(xw: torch.Tensor, state: State, step: Callable[[torch.Tensor, State], tuple[torch.Tensor, State]]
           ) -> tuple[torch.Tensor, State]:
    """Run ``step(xw[t], state) -> (output_t, state)`` over time: the stacked outputs, the last state."""
    outputs = []
    for t in range(xw.shape[0]):
        out, state = step(xw[t], state)
        outputs.append(out)
    return torch.stack(outputs), state


class WordLanguageModel(nn.Module):
    """Embedding -> ``_recur`` over time -> (tied) decoder; the state is one tensor ``(batch, size)``.

    ``modules`` builds the recurrent modules (attribute name -> module); ``zero_all_biases`` zeroes
    every bias at initialisation (else only the decoder's), as each network has always done.
    """

    def __init__(self, vocab_size: int, width: int, size: int, dropouts: Dropouts, tie_weights: bool,
                 modules: Callable[[], dict[str, nn.Module]], zero_all_biases: bool = False) -> None:
        super().__init__()
        self.hidden_size, self.size, self.dropouts = width, size, dropouts
        self.encoder = nn.Embedding(vocab_size, width)
        for name, module in modules().items():
            setattr(self, name, module)
        self.decoder = nn.Linear(width, vocab_size)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        with torch.no_grad():
            for name, param in self.named_parameters():
                zero = name.endswith("bias") if zero_all_biases else name == "decoder.bias"
                param.zero_() if zero else param.uniform_(-INIT_RANGE, INIT_RANGE)

    def init_hidden(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return torch.zeros(batch, self.size, device=device or self.encoder.weight.device)

    def arch_mismatch(self, arch: Any) -> str | None:
        """Why ``arch`` does not fit this network (None: it fits)."""
        return None

    def run(self, x: torch.Tensor, arch: Any, hidden: torch.Tensor | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(seq_len, batch, vocab)`` and the state ``(batch, size)`` after the last step."""
        if x.dim() != 2:
            raise ValueError(f"expected token ids of shape (seq_len, batch), got {tuple(x.shape)}")
        problem = self.arch_mismatch(arch)
        if problem:
            raise ValueError(problem)
        state = self.init_hidden(x.shape[1], x.device) if hidden is None else hidden
        emb = variational(self._embed(x), self.dropouts.embedding, self.training)
        out, state = self._recur(emb, arch, state)
        out = variational(out, self.dropouts.output, self.training)
        return self.decoder(out), state

    def _recur(self, emb: torch.Tensor, arch: Any, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The cell's outputs ``(seq_len, batch, width)`` over ``emb`` and the last packed state."""
        raise NotImplementedError

    def _hidden_mask(self, like: torch.Tensor) -> torch.Tensor | None:
        """The variational mask on ``h_{t-1}`` into the recurrent weights, one per sequence."""
        return _mask(like, (like.shape[-2], self.hidden_size), self.dropouts.hidden, self.training)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.encoder.weight
        if self.training and self.dropouts.words > 0.0:
            keep = 1.0 - self.dropouts.words
            weight = weight * (weight.new_empty((weight.size(0), 1)).bernoulli_(keep) / keep)
        return F.embedding(x, weight)


class SupernetLM(nn.Module):
    """Shared weights: ``forward(x, arch) -> logits``; ``run_arch(x, arch, h)`` for BPTT.

    Mixed in before a ``WordLanguageModel``.
    """

    def forward(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        return self.run_arch(x, arch)[0]

    def run_arch(self, x: torch.Tensor, arch: Any, hidden: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.run(x, arch, hidden)


class ChildLM(nn.Module):
    """One architecture (``self.arch``); ``forward(x) -> logits`` from a zero state, ``run_state(x, h)``.

    Mixed in before a ``WordLanguageModel``.
    """

    arch: Any

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_state(x)[0]

    def run_state(self, x: torch.Tensor, hidden: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.run(x, self.arch, hidden)


class OneStep(nn.Module):
    """``(tokens (1, batch), hidden (batch, size)) -> (logits (batch, vocab), hidden)``: the exported
    program, one step of the recurrence (the caller loops over the words)."""

    def __init__(self, child: nn.Module) -> None:
        super().__init__()
        self.child = child

    def forward(self, tokens: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, h = self.child.run_state(tokens, hidden)
        return logits[0], h


__all__ = ["INIT_RANGE", "ChildLM", "Dropouts", "OneStep", "SupernetLM", "WordLanguageModel", "activation",
           "unroll", "variational"]
