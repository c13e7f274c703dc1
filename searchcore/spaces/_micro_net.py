"""The ENAS-micro network, shared by the supernet and the standalone child.

Both are built by the same code; they differ only in which operations each (node, input slot)
holds: the supernet holds every candidate once, the child only the chosen one, under the same
module names. So the child's weights are a subset of the supernet's (``load_from_supernet``), and
the two compute the same function for the same architecture (up to BN's affine parameters, which
the supernet does not have and the child initialises to identity).

Layout (ENAS/DARTS): a 3x3 stem conv to ``3 * C`` channels, then ``cells_per_stage`` normal cells
per stage with a reduction cell between stages (channels double, resolution halves). A cell takes
the outputs of the two previous cells, brought to its channels/size first when they differ (1x1
ReLU-conv-BN, or a factorized reduce when the older one is twice as large). In a reduction cell the
operations applied to the cell inputs have stride 2 (NASNet/ENAS child), so each slot of a reduction
cell has a strided op set for cell inputs and a stride-1 set for earlier nodes. Loose ends
(including unused cell inputs, as in ENAS) are concatenated, then ReLU - 1x1 conv - BN.

A node sums its two op outputs, or (NASNet's ``concat`` combine) concatenates them along the
channels and brings the ``2C`` back to ``C`` with a 1x1 ReLU-conv-BN, so later nodes see ``C``
channels either way. ``merges(kind)`` names the nodes that hold that conv: every node in a supernet
whose space offers ``concat``, only the concat nodes in a child, none for ENAS.

Nothing here names an operation: the plan says which op names each slot holds and ``op_table``
(``ops.OPS`` by default, another table for another space) builds them, so NASNet-style variants
with their own op list reuse this code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.spaces._common import AuxHead, ChildMixin, Classifier, SupernetMixin, drop_path, stem
from searchcore.spaces.ops import OPS, FactorizedReduce, OpFactory, ReLUConvBN, is_plain_identity, make_op

# (cell kind, node index, slot) -> (op names for same-size sources, op names for strided sources)
SlotPlan = Callable[[str, int, int], tuple[Sequence[str], Sequence[str]]]
Merges = Callable[[str], tuple[int, ...]]  # cell kind -> nodes holding a concat combine's 1x1 conv


def no_merges(kind: str) -> tuple[int, ...]:
    """Every node adds (ENAS): no concat convs."""
    return ()


@lru_cache(maxsize=4096)
def loose_ends(nodes: tuple[Any, ...]) -> tuple[int, ...]:
    """Indices (0, 1: cell inputs; k >= 2: node k-2) that no node takes as input."""
    used = {n.in0 for n in nodes} | {n.in1 for n in nodes}
    return tuple(j for j in range(len(nodes) + 2) if j not in used)


class _Slot(nn.Module):
    def __init__(
        self,
        c_in: int,
        c: int,
        same: Sequence[str],
        strided: Sequence[str],
        affine: bool,
        op_table: Mapping[str, OpFactory],
    ) -> None:
        super().__init__()
        self.ops = nn.ModuleDict({name: make_op(name, c, c, 1, affine, op_table) for name in same})
        self.down = nn.ModuleDict({name: make_op(name, c_in, c, 2, affine, op_table) for name in strided})

    def forward(self, x: torch.Tensor, op: str, strided: bool, drop_prob: float) -> torch.Tensor:
        module = self.down[op] if strided else self.ops[op]
        out = module(x)
        if drop_prob > 0.0 and self.training and not is_plain_identity(module):
            out = drop_path(out, drop_prob)
        return out


class _Combine(nn.Module):
    """ReLU - 1x1 conv - BN over the concatenated loose ends; the weight has one block per source."""

    def __init__(self, c: int, sources: tuple[int, ...], affine: bool) -> None:
        super().__init__()
        self.c = c
        self.sources = sources
        self.weight = nn.Parameter(torch.empty(c, c * len(sources), 1, 1))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # nn.Conv2d's default
        self.bn = nn.BatchNorm2d(c, affine=affine)

    def forward(self, states: list[torch.Tensor], ends: tuple[int, ...]) -> torch.Tensor:
        if len(ends) == 1:
            x = F.relu(states[0])  # may be a cell input shared with the next cell: not in place
        else:
            x = F.relu(torch.cat(states, dim=1), inplace=True)
        return self.bn(F.conv2d(x, self.weight_for(ends)))

    def weight_for(self, ends: tuple[int, ...]) -> torch.Tensor:
        if ends == self.sources:
            return self.weight
        blocks = [self.sources.index(j) for j in ends]
        return torch.cat([self.weight[:, b * self.c : (b + 1) * self.c] for b in blocks], dim=1)


class MicroCell(nn.Module):
    def __init__(
        self,
        kind: str,
        c_pp: int,
        c_p: int,
        c: int,
        reduction_prev: bool,
        num_nodes: int,
        plan: SlotPlan,
        sources: tuple[int, ...],
        affine: bool,
        op_table: Mapping[str, OpFactory] = OPS,
        concat_nodes: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        self.kind = kind
        self.reduction = kind == "reduce"
        c_in = c_p if self.reduction else c  # channels of the cell inputs after preprocessing
        if reduction_prev:
            self.pre0: nn.Module = FactorizedReduce(c_pp, c_in, affine)
        else:
            self.pre0 = ReLUConvBN(c_pp, c_in, 1, affine=affine) if c_pp != c_in else nn.Identity()
        self.pre1 = ReLUConvBN(c_p, c_in, 1, affine=affine) if c_p != c_in else nn.Identity()
        self.nodes = nn.ModuleList(
            nn.ModuleList(_Slot(c_in, c, *plan(kind, i, s), affine, op_table) for s in (0, 1))
            for i in range(num_nodes)
        )
        self.merges = nn.ModuleDict({str(i): ReLUConvBN(2 * c, c, 1, affine=affine) for i in concat_nodes})
        # In a reduction cell an unused cell input must be reduced before the concatenation.
        ins = [j for j in sources if j < 2] if self.reduction else []
        self.end_reduce = nn.ModuleDict({str(j): FactorizedReduce(c_in, c, affine) for j in ins})
        self.combine = _Combine(c, sources, affine)

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, nodes: tuple[Any, ...], drop_prob: float
    ) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for i, (slots, node) in enumerate(zip(self.nodes, nodes, strict=True)):
            a = slots[0](states[node.in0], node.op0, self.reduction and node.in0 < 2, drop_prob)
            b = slots[1](states[node.in1], node.op1, self.reduction and node.in1 < 2, drop_prob)
            concat = node.combine == "concat"
            states.append(self.merges[str(i)](torch.cat([a, b], dim=1)) if concat else a + b)
        ends = loose_ends(nodes)
        outs = [self.end_reduce[str(j)](states[j]) if self.reduction and j < 2 else states[j] for j in ends]
        return self.combine(outs, ends)


class MicroNet(nn.Module):
    """Stem, cells, classifier; ``run(x, arch)`` follows ``arch`` (``.normal``/``.reduce`` nodes)."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        channels: int,
        cells_per_stage: int,
        num_nodes: int,
        plan: SlotPlan,
        sources: Callable[[str], tuple[int, ...]],
        affine: bool,
        aux_head: bool = False,
        op_table: Mapping[str, OpFactory] = OPS,
        merges: Merges = no_merges,
    ) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.concat_nodes = {kind: frozenset(merges(kind)) for kind in ("normal", "reduce")}
        self.stem = stem(in_channels, 3 * channels)
        c_pp, c_p, c = 3 * channels, 3 * channels, channels
        kinds = (["normal"] * cells_per_stage + ["reduce"]) * 2 + ["normal"] * cells_per_stage
        self.cells = nn.ModuleList()
        reduction_prev = False
        self.aux_index, aux_channels = -1, c
        for index, kind in enumerate(kinds):
            if kind == "reduce":
                c *= 2
            self.cells.append(
                MicroCell(kind, c_pp, c_p, c, reduction_prev, num_nodes, plan, sources(kind), affine,
                          op_table, merges(kind))
            )
            reduction_prev = kind == "reduce"
            c_pp, c_p = c_p, c
            if kind == "reduce":  # the aux head reads the second reduction cell (DARTS: 2/3 depth)
                self.aux_index, aux_channels = index, c
        self.aux = AuxHead(aux_channels, num_classes) if aux_head else None
        if self.aux is None:
            self.aux_index = -1
        self.classifier = Classifier(c_p, num_classes)

    def run(self, x: torch.Tensor, arch: Any, drop_prob: float = 0.0) -> Any:
        s0 = s1 = self.stem(x)
        aux_logits = None
        for index, cell in enumerate(self.cells):
            nodes = arch.reduce if cell.reduction else arch.normal
            s0, s1 = s1, cell(s0, s1, nodes, drop_prob)
            if index == self.aux_index and self.training:
                aux_logits = self.aux(s1)
        logits = self.classifier(s1)
        return (logits, aux_logits) if aux_logits is not None else logits

    def arch_mismatch(self, arch: Any) -> str | None:
        if len(arch.normal) != self.num_nodes or len(arch.reduce) != self.num_nodes:
            return (
                f"the supernet has {self.num_nodes} nodes per cell; the architecture has "
                f"{len(arch.normal)} (normal) and {len(arch.reduce)} (reduce)"
            )
        for kind, nodes in (("normal", arch.normal), ("reduce", arch.reduce)):
            for i, node in enumerate(nodes):
                if node.combine == "concat" and i not in self.concat_nodes[kind]:
                    return f"{kind} node {i} concatenates, but this network's space offers only add"
        return None


class MicroSupernet(SupernetMixin, MicroNet):
    """Shared weights: every candidate op once per (cell kind, node, slot); ``forward(x, arch)``."""


class MicroChild(ChildMixin, MicroNet):
    """One architecture: ``MicroChild(arch, *MicroNet arguments, drop_path=...)``; ``forward(x)``."""
