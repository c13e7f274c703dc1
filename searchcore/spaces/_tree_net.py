"""The NAS-RL recurrent tree cell and the word-level language model around it (Zoph & Le 2017, §3.4).

One time step over ``x_t``, ``h_{t-1}`` and the memory ``c_{t-1}``. Tree nodes are numbered as a
binary tree: leaves ``0 .. L-1``, then each level's internal nodes left to right, the root last
(base 2: leaves 0, 1 and root 2; base 8: leaves 0-7, 8-11, 12-13, root 14; a leaf count that is
not a power of two carries its odd node up a level: 3 leaves pair 0 and 1 into 3, then 3 and 2 into
4). Every node ``k`` has a combine op and an activation:

- leaf ``i``: ``a_i = act_i(combine_i(W_i x_t, U_i h_{t-1}))`` (the paper's "tree index" 0, 1, ...);
- internal node ``k`` over children ``l``, ``r``: ``a_k = act_k(combine_k(a_l, a_r))``;
- cell inject: the node ``inject_node`` receives ``c_{t-1}``: its output becomes
  ``act_inj(combine_inj(a_k, c_{t-1}))`` before its parent reads it;
- ``c_t`` is the pre-activation (the combine's result) of the node ``cell_from``; ``h_t`` is the
  root's output.

The paper's worked example (its Figure 5) is base 2 with leaf 0 ``tanh(add)``, leaf 1
``relu(mult)``, ``c_{t-1}`` injected into leaf 0 by ``relu(add)``, ``c_t`` from leaf 1's
pre-activation and the root ``sigmoid(mult)``.

Weights: ``W_i``/``U_i`` for every leaf, stored as one ``Linear(H, L*H)`` for ``x`` (with bias,
precomputed for the whole sequence) and one for ``h`` (no bias, as ENAS' cell). The tree's combines
and activations have no parameters, so every architecture of a space uses all of its weights: the
supernet and a child are the same network, the child only fixes the architecture, and a child
loaded with the supernet's weights computes exactly the supernet's path.

State: ``h`` and ``c`` travel as one tensor ``[h, c]`` of width ``2H`` (``size``), so the BPTT
loops, the sample generator and the one-step export (``export.onnx_step``), written for a single
hidden tensor, serve this cell unchanged. The cell has no gates: with identity or ReLU activations
and ``add`` combines the state can grow without bound over time, so ``h_t`` and ``c_t`` are clamped
to ``+-STATE_LIMIT``: without it, one of 12 seeded random base-8 cells (hidden 200, initial
weights, 35 steps) reached |h| = 1.7e6, where training's larger weights overflow to inf and a NaN
loss would poison shared weights; the other 11 stayed below 3.5, far from the limit.

Language model: ``_lm_net.WordLanguageModel`` (ENAS/AWD knobs: whole-word embedding dropout,
variational dropout on the embedded input and on the outputs, a tied decoder; every bias starts at
0); the cell adds the variational dropout on ``h_{t-1}`` into the leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from searchcore.spaces._lm_net import ChildLM, Dropouts, SupernetLM, WordLanguageModel, activation, unroll

COMBINES = ("add", "elem_mult", "max")
ACTIVATIONS = ("identity", "tanh", "sigmoid", "relu", "sin")
MIN_LEAVES, MAX_LEAVES = 2, 8  # the paper's "base 2" and "base 8" trees, and any size between
STATE_LIMIT = 50.0


@dataclass(frozen=True)
class TreeNode:
    combine: str
    act: str


@dataclass(frozen=True)
class TreeArch:
    """``nodes`` in tree order (leaves first, root last); the inject and ``c_t``'s source node."""

    nodes: tuple[TreeNode, ...]
    inject_node: int
    inject: TreeNode
    cell_from: int

    @property
    def leaves(self) -> int:
        return (len(self.nodes) + 1) // 2


def tree_children(leaves: int) -> list[tuple[int, int]]:
    """``(left, right)`` child indices of each internal node, in node order (leaves first): each level
    pairs its nodes left to right; an odd one out moves up to the next level as it is."""
    out: list[tuple[int, int]] = []
    level, nxt = list(range(leaves)), leaves
    while len(level) > 1:
        parents = []
        for k in range(0, len(level) - 1, 2):
            out.append((level[k], level[k + 1]))
            parents.append(nxt)
            nxt += 1
        level = parents + level[len(level) - len(level) % 2:]
    return out


def combine(name: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if name == "add":
        return a + b
    if name == "elem_mult":
        return a * b
    if name == "max":
        return torch.maximum(a, b)
    raise ValueError(f"unknown combine {name!r}; choose from {', '.join(COMBINES)}")


def activate(name: str, x: torch.Tensor) -> torch.Tensor:
    return activation(name, x, ACTIVATIONS)


class TreeCell(nn.Module):
    """The leaves' linear maps; ``step`` runs one architecture's tree on them."""

    def __init__(self, size: int, leaves: int) -> None:
        super().__init__()
        self.size, self.leaves = size, leaves
        self.w_x = nn.Linear(size, leaves * size)
        self.w_h = nn.Linear(size, leaves * size, bias=False)
        self.children_of = tree_children(leaves)

    def step(self, xw: torch.Tensor, h: torch.Tensor, c: torch.Tensor, arch: TreeArch,
             h_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(h_t, c_t)`` from ``xw = W x_t`` (all leaves, precomputed) and the previous state."""
        hw = self.w_h(h if h_mask is None else h * h_mask)
        xs, hs = xw.chunk(self.leaves, dim=-1), hw.chunk(self.leaves, dim=-1)
        outputs: list[torch.Tensor] = []
        c_new = None
        for k, node in enumerate(arch.nodes):
            if k < self.leaves:
                a, b = xs[k], hs[k]
            else:
                left, right = self.children_of[k - self.leaves]
                a, b = outputs[left], outputs[right]
            pre = combine(node.combine, a, b)
            out = activate(node.act, pre)
            if k == arch.cell_from:
                c_new = pre
            if k == arch.inject_node:
                out = activate(arch.inject.act, combine(arch.inject.combine, out, c))
            outputs.append(out)
        assert c_new is not None  # cell_from is checked when the architecture is parsed
        limit = STATE_LIMIT
        return outputs[-1].clamp(-limit, limit), c_new.clamp(-limit, limit)


class TreeLanguageModel(WordLanguageModel):
    """Embedding -> tree cell over time -> (tied) decoder; the state is ``[h, c]`` (``size`` = 2H)."""

    def __init__(self, vocab_size: int, hidden: int, leaves: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        super().__init__(vocab_size, hidden, 2 * hidden, dropouts, tie_weights,
                         lambda: {"cell": TreeCell(hidden, leaves)}, zero_all_biases=True)
        self.leaves = leaves

    def _recur(self, emb: torch.Tensor, arch: TreeArch, state: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        h_mask = self._hidden_mask(emb)
        xw = self.cell.w_x(emb)

        def step(x_t: torch.Tensor, hc: tuple[torch.Tensor, ...]
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
            h, c = self.cell.step(x_t, hc[0], hc[1], arch, h_mask)
            return h, (h, c)

        out, (h, c) = unroll(xw, state.chunk(2, dim=-1), step)
        return out, torch.cat([h, c], dim=-1)

    def arch_mismatch(self, arch: TreeArch) -> str | None:
        if arch.leaves != self.leaves:
            return f"the network has {self.leaves} leaves; the architecture has {arch.leaves}"
        return None


class TreeSupernet(SupernetLM, TreeLanguageModel):
    """Every architecture of the space on the same weights: ``forward(x, arch) -> logits``."""


class TreeChild(ChildLM, TreeLanguageModel):
    """One architecture; ``forward(x) -> logits`` from a zero state, ``run_state(x, h)`` for BPTT."""

    def __init__(self, arch: TreeArch, vocab_size: int, hidden: int, dropouts: Dropouts,
                 tie_weights: bool) -> None:
        super().__init__(vocab_size, hidden, arch.leaves, dropouts, tie_weights)
        self.arch = arch


__all__ = ["ACTIVATIONS", "COMBINES", "MAX_LEAVES", "MIN_LEAVES", "STATE_LIMIT", "TreeArch", "TreeCell",
           "TreeChild", "TreeLanguageModel", "TreeNode", "TreeSupernet", "activate", "combine",
           "tree_children"]
