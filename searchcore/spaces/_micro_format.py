"""The micro cell architecture as data: nodes, the per-node decision order, JSON rows and drawing.

A node (NASNet calls it a block) reads two inputs, applies one op to each and merges the two
results: ENAS sums them; a variant that declares *combines* (NASNet: ``add`` or ``concat``) also
decides how. Such a variant asks its decisions in NASNet's order (two inputs, two ops, the
combine; Zoph et al. 2018, §3 steps 1-5) and writes a fifth column in its JSON rows; a variant
without combines keeps ENAS' order and four columns, so its decisions, JSON and checkpoints are
exactly those of ``enas-micro``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from searchcore.spaces._micro_net import loose_ends

CELLS = ("normal", "reduce")
MAX_NODES = 8
ENAS_FIELDS = ("in0", "op0", "in1", "op1")  # a node's decisions in ENAS' order (sum only)
COMBINE_FIELDS = ("in0", "in1", "op0", "op1", "combine")  # NASNet's order: inputs, ops, combine


@dataclass(frozen=True)
class MicroNode:
    in0: int  # 0, 1: the cell inputs c_{k-2}, c_{k-1}; k >= 2: node k-2
    op0: str
    in1: int
    op1: str
    combine: str = "add"  # "add" (ENAS: always) or "concat" (then a 1x1 conv back to C channels)


@dataclass(frozen=True)
class MicroArch:
    normal: tuple[MicroNode, ...]
    reduce: tuple[MicroNode, ...]

    def cell(self, kind: str) -> tuple[MicroNode, ...]:
        return self.normal if kind == "normal" else self.reduce


def input_labels(count: int) -> tuple[str, ...]:
    return ("c_{k-2}", "c_{k-1}", *(f"node{j}" for j in range(count - 2)))


def node_row(node: MicroNode, with_combine: bool) -> list[Any]:
    """The JSON row of a node: ``[in0, op0, in1, op1]`` (+ ``combine`` for a combine variant)."""
    row: list[Any] = [node.in0, node.op0, node.in1, node.op1]
    return [*row, node.combine] if with_combine else row


def parse_cell(
    space: str, data: dict[str, Any], cell: str, op_choices: Sequence[str], combine_choices: Sequence[str]
) -> tuple[MicroNode, ...]:
    """The nodes of ``data[cell]``; ``ValueError`` naming the node and what is wrong."""
    rows = data.get(cell)
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_NODES:
        raise ValueError(f"{space} architecture needs {cell!r}: a list of 1..{MAX_NODES} nodes")
    width = 5 if combine_choices else 4
    shape = "[in0, op0, in1, op1, combine]" if combine_choices else "[in0, op0, in1, op1]"
    nodes = []
    for i, row in enumerate(rows):
        where = f"{cell} node {i}"
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"{where}: expected {shape}, got {row!r}")
        for src in (row[0], row[2]):
            if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < i + 2:
                raise ValueError(f"{where}: input must be an integer in 0..{i + 1}, got {src!r}")
        for op in (row[1], row[3]):
            if op not in op_choices:
                raise ValueError(f"{where}: unknown operation {op!r}; choose from {', '.join(op_choices)}")
        if combine_choices and row[4] not in combine_choices:
            raise ValueError(f"{where}: unknown combine {row[4]!r}; choose from {', '.join(combine_choices)}")
        nodes.append(MicroNode(*row))
    return tuple(nodes)


def cell_graph(name: str, nodes: tuple[MicroNode, ...], with_combine: bool) -> dict[str, Any]:
    """One cell's drawing; a combine variant labels each node with its combine (``0: concat``)."""
    ids = ["c_{k-2}", "c_{k-1}", *(str(i) for i in range(len(nodes)))]
    graph_nodes = [
        {"id": ids[0], "label": "c_{k-2}", "kind": "input"},
        {"id": ids[1], "label": "c_{k-1}", "kind": "input"},
    ]
    graph_nodes += [
        {"id": str(i), "label": f"{i}: {n.combine}" if with_combine else str(i), "kind": "op"}
        for i, n in enumerate(nodes)
    ]
    graph_nodes.append({"id": "c_{k}", "label": "c_{k}", "kind": "output"})
    edges = []
    for i, n in enumerate(nodes):
        edges.append({"source": ids[n.in0], "target": str(i), "label": n.op0})
        edges.append({"source": ids[n.in1], "target": str(i), "label": n.op1})
    edges += [{"source": ids[j], "target": "c_{k}", "label": ""} for j in loose_ends(nodes)]
    return {"name": name, "nodes": graph_nodes, "edges": edges}


__all__ = ["CELLS", "COMBINE_FIELDS", "ENAS_FIELDS", "MAX_NODES", "MicroArch", "MicroNode", "cell_graph",
           "input_labels", "node_row", "parse_cell"]
