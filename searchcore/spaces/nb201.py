"""NAS-Bench-201 topology space (Dong & Yang, ICLR 2020).

One cell with 4 nodes and 6 edges ``j <- i`` (i < j); each edge carries one of five operations and
node ``j`` is the sum of its incoming edges. The network is the benchmark's skeleton: a 3x3 stem,
three stages of ``cells_per_stage`` cells (``channels``, 2x, 4x) joined by residual reduction blocks,
then BN-ReLU, global pooling and a linear classifier. Because every cell of the benchmark was
trained, an architecture can also be scored by table lookup (evaluator ``benchmark``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import drop_path
from searchcore.spaces._degenerate import dag_reasons, module_has_parameters
from searchcore.spaces.base import Decision, DecisionValue, SearchSpace, TaskSpec, options_class

logger = logging.getLogger(__name__)

NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
MAX_CHANNELS = 256
MAX_CELLS_PER_STAGE = 20
NUM_NODES = 4
EDGES: tuple[tuple[int, int], ...] = tuple((j, i) for j in range(1, NUM_NODES) for i in range(j))


SCHEMA = Schema("nb201 space", (
    Option("ops", "multichoice", NB201_OPS, "candidate operations on every edge", choices=NB201_OPS),
    Option("channels", "int", 16, "channels of the first stage (doubled per stage)", 1, MAX_CHANNELS),
    Option("cells_per_stage", "int", 5, "cells in each of the 3 stages", 1, MAX_CELLS_PER_STAGE),
))
NB201Options = options_class(SCHEMA, "NB201Options", __name__)


@dataclass(frozen=True)
class NB201Arch:
    """One op name per edge, in the order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2."""

    edges: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.edges) != len(EDGES):
            raise ValueError(f"nb201: expected {len(EDGES)} edge ops, got {len(self.edges)}")
        bad = [op for op in self.edges if op not in NB201_OPS]
        if bad:
            raise ValueError(f"nb201: unknown operation(s) {', '.join(bad)}")

    @property
    def arch_str(self) -> str:
        """The benchmark's own string, e.g. ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``."""
        parts, k = [], 0
        for j in range(1, NUM_NODES):
            parts.append("|" + "|".join(f"{self.edges[k + i]}~{i}" for i in range(j)) + "|")
            k += j
        return "+".join(parts)

    @classmethod
    def from_arch_str(cls, text: str) -> NB201Arch:
        nodes = text.strip().split("+")
        if len(nodes) != NUM_NODES - 1:
            raise ValueError(f"nb201: {text!r} does not have {NUM_NODES - 1} nodes separated by '+'")
        edges: list[str] = []
        for j, node in enumerate(nodes, start=1):
            items = [p for p in node.strip("|").split("|") if p]
            if len(items) != j:
                raise ValueError(f"nb201: node {j} of {text!r} must have {j} inputs")
            for i, item in enumerate(items):
                op, _, src = item.partition("~")
                if src != str(i):
                    raise ValueError(f"nb201: {item!r} in {text!r} should come from node {i}")
                edges.append(op)
        return cls(tuple(edges))


# -- operations (ReLU-Conv-BN as in the benchmark) ---------------------------------------------
class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(c_out))


def make_op(name: str, channels: int) -> nn.Module:
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"nb201: no module for operation {name!r}")


@cache
def op_has_parameters(name: str) -> bool:
    """Whether edge op ``name`` has weights (``none`` is a zero edge: no module at all)."""
    return name != "none" and module_has_parameters(make_op(name, 4))


class ResidualReduction(nn.Module):
    """The benchmark's ResNet basic block with stride 2 between stages."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        # ceil_mode: an odd side (e.g. 9) halves to 5 as in the strided conv path, not to 4
        pool = nn.AvgPool2d(2, 2, ceil_mode=True)
        self.downsample = nn.Sequential(pool, nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Cell(nn.Module):
    """A cell whose edges hold either one fixed op (child) or all candidate ops (supernet)."""

    def __init__(self, channels: int, edge_ops: Sequence[Sequence[str]],
                 owner: Network | None = None) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleDict({op: make_op(op, channels) for op in ops if op != "none"}) for ops in edge_ops
        )
        self._owner = [owner]  # a list so the parent is not registered as a submodule

    def forward(self, x: torch.Tensor, ops: Sequence[str]) -> torch.Tensor:
        prob = self._owner[0].drop_path_prob if self._owner[0] is not None else 0.0
        states = [x]
        k = 0
        for j in range(1, NUM_NODES):
            total: torch.Tensor | None = None
            for i in range(j):
                op = ops[k + i]
                if op != "none":
                    out = self.edges[k + i][op](states[i])
                    if op != "skip_connect" and self.training and prob > 0.0:
                        out = drop_path(out, prob)
                    total = out if total is None else total + out
            states.append(total if total is not None else torch.zeros_like(x))
            k += j
        return states[-1]


class Network(nn.Module):
    """Stem, 3 stages of cells joined by residual reductions, BN-ReLU, pool, linear."""

    def __init__(self, task: TaskSpec, channels: int, cells_per_stage: int,
                 edge_ops: Sequence[Sequence[str]], arch: NB201Arch | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.drop_path_prob = 0.0
        self.stem = nn.Sequential(nn.Conv2d(task.in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c_prev = channels
        for stage in range(3):
            c = channels * 2**stage
            if stage > 0:
                layers.append(ResidualReduction(c_prev, c))
            layers.extend(Cell(c, edge_ops, owner=self) for _ in range(cells_per_stage))
            c_prev = c
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(c_prev, task.num_classes)

    def forward(self, x: torch.Tensor, arch: NB201Arch | None = None) -> torch.Tensor:
        ops = (arch or self.arch).edges
        out = self.stem(x)
        for layer in self.layers:
            out = layer(out, ops) if isinstance(layer, Cell) else layer(out)
        out = self.head(out).mean(dim=(2, 3))
        return self.classifier(out)


# -- the space ----------------------------------------------------------------------------------
@register_space
class NB201Space(SearchSpace):
    name = "nb201"
    schema = SCHEMA
    Options = NB201Options
    description = "NAS-Bench-201 cell: 4 nodes, 6 edges, 5 operations; scorable by table lookup."
    initial_nodes = {"cell": 1}
    options: NB201Options

    def decisions(self) -> list[Decision]:
        return [Decision(key=f"cell/edge{j}<-{i}", kind="op", choices=tuple(self.options.ops), group="cell",
                         node=j) for j, i in EDGES]

    def from_decisions(self, values: Sequence[DecisionValue]) -> NB201Arch:
        self.validate_values(values)
        return NB201Arch(tuple(self.options.ops[int(v)] for v in values))  # type: ignore[arg-type]

    def to_decisions(self, arch: NB201Arch) -> list[DecisionValue]:
        self._check_ops(arch)
        return [self.options.ops.index(op) for op in arch.edges]

    def arch_to_json(self, arch: NB201Arch) -> dict[str, Any]:
        return {"space": self.name, "edges": list(arch.edges), "arch_str": arch.arch_str}

    def arch_from_json(self, data: dict[str, Any]) -> NB201Arch:
        if not isinstance(data, dict):
            raise ValueError("nb201: architecture must be a JSON object")
        if data.get("space", self.name) != self.name:
            raise ValueError(f"nb201: architecture is for space {data.get('space')!r}")
        if "edges" in data:
            edges = data["edges"]
            if not isinstance(edges, (list, tuple)) or not all(isinstance(e, str) for e in edges):
                raise ValueError("nb201: 'edges' must be a list of operation names")
            arch = NB201Arch(tuple(edges))
            if "arch_str" in data and data["arch_str"] != arch.arch_str:
                raise ValueError("nb201: 'edges' and 'arch_str' disagree")
        elif "arch_str" in data:
            arch = NB201Arch.from_arch_str(str(data["arch_str"]))
        else:
            raise ValueError("nb201: architecture needs 'edges' or 'arch_str'")
        self._check_ops(arch)
        return arch

    def graph(self, arch: NB201Arch) -> dict[str, Any]:
        nodes = [{"id": str(j), "label": "input" if j == 0 else ("output" if j == NUM_NODES - 1 else str(j)),
                  "kind": "input" if j == 0 else ("output" if j == NUM_NODES - 1 else "op")}
                 for j in range(NUM_NODES)]
        edges = [{"source": str(i), "target": str(j), "label": op}
                 for (j, i), op in zip(EDGES, arch.edges, strict=True) if op != "none"]
        return {"cells": [{"name": "cell", "nodes": nodes, "edges": edges}]}

    def degenerate_reasons(self, arch: NB201Arch) -> list[str]:
        """The output node must be reached from the input through an op with weights."""
        edges = [(j, i, op) for (j, i), op in zip(EDGES, arch.edges, strict=True)]
        return dag_reasons(edges, NUM_NODES, is_zero=lambda op: op == "none", has_params=op_has_parameters)

    def build_supernet(self, task: TaskSpec) -> Network:
        o = self.options
        return Network(task, o.channels, o.cells_per_stage, [o.ops] * len(EDGES))

    def build_child(self, arch: NB201Arch, task: TaskSpec, *, channels: int | None = None,
                    cells_per_stage: int | None = None, drop_path: float = 0.0) -> Network:
        self._check_ops(arch)
        o = self.options
        net = Network(task, channels or o.channels, cells_per_stage or o.cells_per_stage,
                      [(op,) for op in arch.edges], arch=arch)
        net.drop_path_prob = float(drop_path)
        return net

    def _check_ops(self, arch: NB201Arch) -> None:
        bad = sorted({op for op in arch.edges if op not in self.options.ops})
        if bad:
            raise ValueError(f"nb201: operation(s) {', '.join(bad)} not in this space's ops")


__all__ = ["EDGES", "NB201_OPS", "NB201Arch", "NB201Options", "NB201Space", "Network"]
