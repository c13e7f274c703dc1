"""The ENAS recurrent cell and the word-level language model around it (Pham et al. 2018, §2.1).

One time step: node 0 reads ``x_t`` and ``h_{t-1}``; node ``l >= 1`` reads one earlier node
``s_j``. Every node is a highway layer: ``[c, h] = s_j W_{j,l}`` (node 0: ``x_t W_x + h_{t-1} W_h``),
``s_l = sigmoid(c) * f(h) + (1 - sigmoid(c)) * s_j`` with ``f`` the node's activation (node 0
carries ``h_{t-1}``). The cell output ``h_t`` is the mean of the loose ends (nodes no later node
reads). The supernet holds one ``W_{j,l}`` per (earlier node, node) edge, ``cell.edges["j_l"]``;
the child holds only its own edges under the same names, so a child's weights are a subset of the
supernet's and the child computes exactly the supernet's path (``copy_weights`` by name).

The language model is ``_lm_net.WordLanguageModel`` (embedding with whole-word dropout, variational
dropout on the embedded input and on the outputs, a decoder tied to the embedding when
``tie_weights``: ENAS ties them, so the hidden size is the embedding size); this cell adds the
variational dropout on ``h_{t-1}``/``s_j`` into every edge (one mask per sequence, as ENAS).
Inputs are ``(seq_len, batch)`` token ids, logits ``(seq_len, batch, vocab)``; ``run`` also takes
and returns the hidden state ``(batch, hidden)`` for truncated backpropagation through time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from searchcore.spaces._lm_net import (
    ChildLM,
    Dropouts,
    OneStep,
    SupernetLM,
    WordLanguageModel,
    activation,
    unroll,
)

ACTIVATIONS = ("identity", "relu", "tanh", "sigmoid")


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


def _act(name: str, x: torch.Tensor) -> torch.Tensor:
    return activation(name, x, ACTIVATIONS)


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


class RnnLanguageModel(WordLanguageModel):
    """Embedding -> ENAS cell over time -> (tied) decoder; ``run(x, arch, hidden)``."""

    def __init__(self, vocab_size: int, size: int, edges: Iterable[tuple[int, int]], num_nodes: int,
                 dropouts: Dropouts, tie_weights: bool) -> None:
        super().__init__(vocab_size, size, size, dropouts, tie_weights,
                         lambda: {"cell": RnnCell(size, edges)})
        self.num_nodes = num_nodes

    def _recur(self, emb: torch.Tensor, arch: RnnArch, state: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        h_mask = self._hidden_mask(emb)
        xw = self.cell.w_x(emb)  # every step's input projection at once

        def step(x_t: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.cell.step(x_t, h, arch, h_mask)
            return h, h

        return unroll(xw, state, step)

    def arch_mismatch(self, arch: RnnArch) -> str | None:
        if len(arch.nodes) != self.num_nodes:
            return f"the network has {self.num_nodes} nodes; the architecture has {len(arch.nodes)}"
        missing = [f"{j}_{i}" for j, i in arch.edges() if f"{j}_{i}" not in self.cell.edges]
        if missing:
            return f"the network has no weights for the edge(s) {', '.join(missing)}"
        return None


class RnnSupernet(SupernetLM, RnnLanguageModel):
    """Shared weights: one edge per (earlier node, node) pair; ``forward(x, arch) -> logits``."""

    def __init__(self, vocab_size: int, size: int, num_nodes: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        edges = [(j, i) for i in range(1, num_nodes) for j in range(i)]
        super().__init__(vocab_size, size, edges, num_nodes, dropouts, tie_weights)


class RnnChild(ChildLM, RnnLanguageModel):
    """One architecture; ``forward(x) -> logits`` from a zero state, ``run_state(x, h)`` for BPTT."""

    def __init__(self, arch: RnnArch, vocab_size: int, size: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        super().__init__(vocab_size, size, arch.edges(), len(arch.nodes), dropouts, tie_weights)
        self.arch = arch


__all__ = ["ACTIVATIONS", "Dropouts", "OneStep", "RnnArch", "RnnCell", "RnnChild", "RnnLanguageModel",
           "RnnNode", "RnnSupernet"]
