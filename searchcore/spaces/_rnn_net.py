"""The ENAS recurrent cell and the word-level language model around it (Pham et al. 2018, §2.1).

One time step: node 0 reads ``x_t`` and ``h_{t-1}``; node ``l >= 1`` reads one earlier node
``s_j``. Every node is a highway layer: ``[c, h] = s_j W_{j,l}`` (node 0: ``x_t W_x + h_{t-1} W_h``),
``s_l = sigmoid(c) * f(h) + (1 - sigmoid(c)) * s_j`` with ``f`` the node's activation (node 0
carries ``h_{t-1}``). The cell output ``h_t`` is the mean of the loose ends (nodes no later node
reads). The supernet holds one ``W_{j,l}`` per (earlier node, node) edge, ``cell.edges["j_l"]``;
the child holds only its own edges under the same names, so a child's weights are a subset of the
supernet's and the child computes exactly the supernet's path (``copy_weights`` by name).

The language model: embedding (rows dropped as a whole word, AWD ``dropoute``), variational
dropout on the embedded input, on ``h_{t-1}``/``s_j`` into every edge and on the outputs (one mask
per sequence, the same at every step, as ENAS and AWD-LSTM), a linear decoder whose weight is the
embedding's when ``tie_weights`` (ENAS ties them; the hidden size is then the embedding size).
Inputs are ``(seq_len, batch)`` token ids, logits ``(seq_len, batch, vocab)``; ``run`` also takes
and returns the hidden state ``(batch, hidden)`` for truncated backpropagation through time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")
INIT_RANGE = 0.1  # uniform initialisation of every weight (pytorch/examples word_language_model)


@dataclass(frozen=True)
class RnnNode:
    prev: int | None  # the earlier node read (None: node 0, which reads x_t and h_{t-1})
    act: str


@dataclass(frozen=True)
class RnnArch:
    nodes: tuple[RnnNode, ...]

    def loose_ends(self) -> tuple[int, ...]:
        """Nodes no later node reads: their mean is the cell output."""
        read = {node.prev for node in self.nodes}
        return tuple(i for i in range(len(self.nodes)) if i not in read)

    def edges(self) -> tuple[tuple[int, int], ...]:
        return tuple((node.prev, i) for i, node in enumerate(self.nodes) if node.prev is not None)


@dataclass(frozen=True)
class Dropouts:
    """Training-time drop probabilities (ENAS PTB search defaults: e/x/h/o keep 0.75/0.25/0.75/0.25)."""

    words: float = 0.25
    embedding: float = 0.75
    hidden: float = 0.25
    output: float = 0.75


def _act(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "identity":
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")


def _mask(like: torch.Tensor, shape: tuple[int, ...], prob: float, training: bool) -> torch.Tensor | None:
    """A scaled Bernoulli keep-mask, or None when nothing is dropped."""
    if not training or prob <= 0.0:
        return None
    keep = 1.0 - prob
    return like.new_empty(shape).bernoulli_(keep) / keep


class RnnCell(nn.Module):
    """The shared cell: weights for ``edges`` only (all of them in the supernet)."""

    def __init__(self, size: int, edges: Iterable[tuple[int, int]]) -> None:
        super().__init__()
        self.size = size
        self.w_x = nn.Linear(size, 2 * size, bias=False)
        self.w_h = nn.Linear(size, 2 * size, bias=False)
        self.edges = nn.ModuleDict({f"{j}_{i}": nn.Linear(size, 2 * size, bias=False) for j, i in edges})

    def step(self, xw: torch.Tensor, h: torch.Tensor, arch: RnnArch, h_mask: torch.Tensor | None
             ) -> torch.Tensor:
        """One time step from ``xw = x_t W_x`` (precomputed for the whole sequence) and ``h_{t-1}``."""
        h_in = h if h_mask is None else h * h_mask
        states = [self._highway(xw + self.w_h(h_in), h, arch.nodes[0].act)]
        for i, node in enumerate(arch.nodes[1:], start=1):
            prev = states[node.prev]  # type: ignore[index]
            prev_in = prev if h_mask is None else prev * h_mask
            states.append(self._highway(self.edges[f"{node.prev}_{i}"](prev_in), prev, node.act))
        ends = arch.loose_ends()
        out = states[ends[0]]
        for k in ends[1:]:
            out = out + states[k]
        return out / len(ends)

    def _highway(self, z: torch.Tensor, carry: torch.Tensor, act: str) -> torch.Tensor:
        c, h = z.chunk(2, dim=-1)
        c = torch.sigmoid(c)
        return c * _act(act, h) + (1.0 - c) * carry


class RnnLanguageModel(nn.Module):
    """Embedding -> ENAS cell over time -> (tied) decoder; ``run(x, arch, hidden)``."""

    def __init__(self, vocab_size: int, size: int, edges: Iterable[tuple[int, int]], num_nodes: int,
                 dropouts: Dropouts, tie_weights: bool) -> None:
        super().__init__()
        self.num_nodes, self.size, self.dropouts = num_nodes, size, dropouts
        self.encoder = nn.Embedding(vocab_size, size)
        self.cell = RnnCell(size, edges)
        self.decoder = nn.Linear(size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self._init_weights()

    def _init_weights(self) -> None:
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name == "decoder.bias":
                    param.zero_()
                else:
                    param.uniform_(-INIT_RANGE, INIT_RANGE)

    def init_hidden(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        return torch.zeros(batch, self.size, device=device or self.encoder.weight.device)

    def run(self, x: torch.Tensor, arch: RnnArch, hidden: torch.Tensor | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(seq_len, batch, vocab)`` and the last hidden state ``(batch, size)``."""
        if x.dim() != 2:
            raise ValueError(f"expected token ids of shape (seq_len, batch), got {tuple(x.shape)}")
        steps, batch = x.shape
        h = self.init_hidden(batch, x.device) if hidden is None else hidden
        emb = self._embed(x)
        d = self.dropouts
        x_mask = _mask(emb, (1, batch, self.size), d.embedding, self.training)
        if x_mask is not None:
            emb = emb * x_mask
        h_mask = _mask(emb, (batch, self.size), d.hidden, self.training)
        xw = self.cell.w_x(emb)  # every step's input projection at once
        outputs = []
        for t in range(steps):
            h = self.cell.step(xw[t], h, arch, h_mask)
            outputs.append(h)
        out = torch.stack(outputs)
        o_mask = _mask(out, (1, batch, self.size), d.output, self.training)
        if o_mask is not None:
            out = out * o_mask
        return self.decoder(out), h

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.encoder.weight
        if self.training and self.dropouts.words > 0.0:
            keep = 1.0 - self.dropouts.words
            rows = weight.new_empty((weight.size(0), 1)).bernoulli_(keep) / keep
            weight = weight * rows
        return F.embedding(x, weight)

    def arch_mismatch(self, arch: RnnArch) -> str | None:
        if len(arch.nodes) != self.num_nodes:
            return f"the network has {self.num_nodes} nodes; the architecture has {len(arch.nodes)}"
        missing = [f"{j}_{i}" for j, i in arch.edges() if f"{j}_{i}" not in self.cell.edges]
        if missing:
            return f"the network has no weights for the edge(s) {', '.join(missing)}"
        return None


class RnnSupernet(RnnLanguageModel):
    """Shared weights: one edge per (earlier node, node) pair; ``forward(x, arch) -> logits``."""

    def __init__(self, vocab_size: int, size: int, num_nodes: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        edges = [(j, i) for i in range(1, num_nodes) for j in range(i)]
        super().__init__(vocab_size, size, edges, num_nodes, dropouts, tie_weights)

    def forward(self, x: torch.Tensor, arch: RnnArch) -> torch.Tensor:
        return self.run_arch(x, arch)[0]

    def run_arch(self, x: torch.Tensor, arch: RnnArch, hidden: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        problem = self.arch_mismatch(arch)
        if problem:
            raise ValueError(problem)
        return self.run(x, arch, hidden)


class RnnChild(RnnLanguageModel):
    """One architecture; ``forward(x) -> logits`` from a zero state, ``run_state(x, h)`` for BPTT."""

    def __init__(self, arch: RnnArch, vocab_size: int, size: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        super().__init__(vocab_size, size, arch.edges(), len(arch.nodes), dropouts, tie_weights)
        self.arch = arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, self.arch)[0]

    def run_state(self, x: torch.Tensor, hidden: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.run(x, self.arch, hidden)


class OneStep(nn.Module):
    """``(tokens (1, batch), hidden (batch, size)) -> (logits (batch, vocab), hidden)``: the exported
    program, one step of the recurrence (the caller loops over the words)."""

    def __init__(self, child: RnnChild) -> None:
        super().__init__()
        self.child = child

    def forward(self, tokens: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, h = self.child.run_state(tokens, hidden)
        return logits[0], h

