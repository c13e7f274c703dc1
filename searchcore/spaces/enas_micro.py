"""ENAS micro search space (Pham et al. 2018, §2.3): a normal and a reduction cell of B nodes.

Each node takes two inputs (either cell input or an earlier node), applies one operation to each
and sums them; the loose ends are concatenated and mixed by a 1x1 conv. Decisions per cell, node
by node: ``in0``, ``op0``, ``in1``, ``op1`` — normal cell first, then the reduction cell.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchcore.spaces import register_space
from searchcore.spaces._common import check_int, check_ops, check_space_field, child_overrides
from searchcore.spaces._micro_net import MicroChild, MicroSupernet, loose_ends
from searchcore.spaces.base import Decision, DecisionValue, OptionSpec, SearchSpace, SpaceOptions, TaskSpec
from searchcore.spaces.ops import MICRO_OPS

logger = logging.getLogger(__name__)

CELLS = ("normal", "reduce")
MAX_NODES = 8


@dataclass(frozen=True)
class MicroNode:
    in0: int  # 0, 1: the cell inputs c_{k-2}, c_{k-1}; k >= 2: node k-2
    op0: str
    in1: int
    op1: str


@dataclass(frozen=True)
class MicroArch:
    normal: tuple[MicroNode, ...]
    reduce: tuple[MicroNode, ...]

    def cell(self, kind: str) -> tuple[MicroNode, ...]:
        return self.normal if kind == "normal" else self.reduce


@dataclass(frozen=True)
class EnasMicroOptions(SpaceOptions):
    ops: tuple[str, ...] = MICRO_OPS
    num_nodes: int = 5
    cells_per_stage: int = 2
    channels: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", check_ops(self.ops, MICRO_OPS))
        check_int(self.num_nodes, "num_nodes", 2, MAX_NODES)
        check_int(self.cells_per_stage, "cells_per_stage", 1, 6)
        check_int(self.channels, "channels", 4, 256)


def input_labels(count: int) -> tuple[str, ...]:
    return ("c_{k-2}", "c_{k-1}", *(f"node{j}" for j in range(count - 2)))


@register_space
class EnasMicroSpace(SearchSpace):
    name = "enas-micro"
    Options = EnasMicroOptions
    description = "ENAS micro: normal + reduction cell; each node sums two ops on two earlier nodes"
    initial_nodes = {"normal": 2, "reduce": 2}
    options: EnasMicroOptions

    @classmethod
    def option_specs(cls) -> list[OptionSpec]:
        d = EnasMicroOptions()
        return [
            OptionSpec(
                "ops", "multichoice", d.ops, "candidate operations of every node input", choices=MICRO_OPS
            ),
            OptionSpec("num_nodes", "int", d.num_nodes, "nodes per cell (B)", 2, MAX_NODES),
            OptionSpec(
                "cells_per_stage", "int", d.cells_per_stage, "normal cells per stage (3 stages)", 1, 6
            ),
            OptionSpec("channels", "int", d.channels, "channels of the first stage", 4, 256),
        ]

    # -- decisions ---------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        out: list[Decision] = []
        for cell in CELLS:
            for i in range(self.options.num_nodes):
                labels = input_labels(i + 2)
                for s in (0, 1):
                    out.append(Decision(f"{cell}/node{i}/in{s}", "input", labels, cell, i))
                    out.append(Decision(f"{cell}/node{i}/op{s}", "op", self.options.ops, cell, i))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> MicroArch:
        self.validate_values(values)
        ops, per_cell = self.options.ops, 4 * self.options.num_nodes
        cells = []
        for c in range(len(CELLS)):
            v = values[c * per_cell : (c + 1) * per_cell]
            cells.append(
                tuple(MicroNode(v[k], ops[v[k + 1]], v[k + 2], ops[v[k + 3]]) for k in range(0, per_cell, 4))
            )
        return MicroArch(*cells)

    def to_decisions(self, arch: MicroArch) -> list[DecisionValue]:
        ops = self.options.ops
        out: list[DecisionValue] = []
        for cell in CELLS:
            nodes = arch.cell(cell)
            if len(nodes) != self.options.num_nodes:
                raise ValueError(
                    f"{cell} cell has {len(nodes)} nodes; this space has {self.options.num_nodes}"
                )
            for node in nodes:
                for op in (node.op0, node.op1):
                    if op not in ops:
                        raise ValueError(f"operation {op!r} is not among this space's ops {list(ops)}")
                out += [node.in0, ops.index(node.op0), node.in1, ops.index(node.op1)]
        return out

    # -- data --------------------------------------------------------------------------
    def arch_to_json(self, arch: MicroArch) -> dict[str, Any]:
        data: dict[str, Any] = {"space": self.name}
        for cell in CELLS:
            data[cell] = [[n.in0, n.op0, n.in1, n.op1] for n in arch.cell(cell)]
        return data

    def arch_from_json(self, data: dict[str, Any]) -> MicroArch:
        """Any node count 1..8 and any op of the full table: a child need not match these options."""
        check_space_field(data, self.name)
        cells = [_parse_cell(data, cell) for cell in CELLS]
        if len(cells[0]) != len(cells[1]):
            raise ValueError(
                f"normal and reduce cells must have as many nodes ({len(cells[0])} != {len(cells[1])})"
            )
        return MicroArch(*cells)

    def graph(self, arch: MicroArch) -> dict[str, Any]:
        return {"cells": [_cell_graph(cell, arch.cell(cell)) for cell in CELLS]}

    # -- networks ----------------------------------------------------------------------
    def build_supernet(self, task: TaskSpec) -> nn.Module:
        o = self.options
        n = o.num_nodes

        def plan(kind: str, node: int, slot: int) -> tuple[Sequence[str], Sequence[str]]:
            if kind == "reduce":
                return (o.ops if node > 0 else ()), o.ops
            return o.ops, ()

        def sources(kind: str) -> tuple[int, ...]:
            return tuple(range(n + 2))

        return MicroSupernet(
            task.in_channels, task.num_classes, o.channels, o.cells_per_stage, n, plan, sources, affine=False
        )

    def build_child(self, arch: MicroArch, task: TaskSpec, **overrides: Any) -> nn.Module:
        o = self.options
        cfg = child_overrides(
            overrides,
            {
                "channels": o.channels,
                "cells_per_stage": o.cells_per_stage,
                "drop_path": 0.0,
                "aux_head": False,
            },
            {},
        )

        def plan(kind: str, node: int, slot: int) -> tuple[Sequence[str], Sequence[str]]:
            n = arch.cell(kind)[node]
            src, op = (n.in0, n.op0) if slot == 0 else (n.in1, n.op1)
            return ((), (op,)) if kind == "reduce" and src < 2 else ((op,), ())

        def sources(kind: str) -> tuple[int, ...]:
            return loose_ends(arch.cell(kind))

        logger.debug("building enas-micro child %s with %s", arch, cfg)
        return MicroChild(
            arch,
            task.in_channels,
            task.num_classes,
            cfg["channels"],
            cfg["cells_per_stage"],
            len(arch.normal),
            plan,
            sources,
            affine=True,
            aux_head=cfg["aux_head"],
            drop_path=cfg["drop_path"],
        )


def _parse_cell(data: dict[str, Any], cell: str) -> tuple[MicroNode, ...]:
    rows = data.get(cell)
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_NODES:
        raise ValueError(f"enas-micro architecture needs {cell!r}: a list of 1..{MAX_NODES} nodes")
    nodes = []
    for i, row in enumerate(rows):
        where = f"{cell} node {i}"
        if not isinstance(row, list) or len(row) != 4:
            raise ValueError(f"{where}: expected [in0, op0, in1, op1], got {row!r}")
        for src in (row[0], row[2]):
            if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < i + 2:
                raise ValueError(f"{where}: input must be an integer in 0..{i + 1}, got {src!r}")
        for op in (row[1], row[3]):
            if op not in MICRO_OPS:
                raise ValueError(f"{where}: unknown operation {op!r}; choose from {', '.join(MICRO_OPS)}")
        nodes.append(MicroNode(row[0], row[1], row[2], row[3]))
    return tuple(nodes)


def _cell_graph(name: str, nodes: tuple[MicroNode, ...]) -> dict[str, Any]:
    ids = ["c_{k-2}", "c_{k-1}", *(str(i) for i in range(len(nodes)))]
    graph_nodes = [
        {"id": ids[0], "label": "c_{k-2}", "kind": "input"},
        {"id": ids[1], "label": "c_{k-1}", "kind": "input"},
    ]
    graph_nodes += [{"id": str(i), "label": str(i), "kind": "op"} for i in range(len(nodes))]
    graph_nodes.append({"id": "c_{k}", "label": "c_{k}", "kind": "output"})
    edges = []
    for i, n in enumerate(nodes):
        edges.append({"source": ids[n.in0], "target": str(i), "label": n.op0})
        edges.append({"source": ids[n.in1], "target": str(i), "label": n.op1})
    edges += [{"source": ids[j], "target": "c_{k}", "label": ""} for j in loose_ends(nodes)]
    return {"name": name, "nodes": graph_nodes, "edges": edges}
