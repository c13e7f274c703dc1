"""The micro cell space (ENAS §2.3, NASNet): a normal and a reduction cell of B nodes, any op list.

Each node takes two inputs (either cell input or an earlier node), applies one operation to each
and sums them; the loose ends are concatenated and mixed by a 1x1 conv. Decisions per cell, node
by node: ``in0``, ``op0``, ``in1``, ``op1`` — normal cell first, then the reduction cell.

Nothing here names an operation. A *variant* (``enas-micro``; later NASNet with its 13 ops) is a
dict — its op list, the op table that builds those ops, its defaults and description — passed by
the space's registry entry point to ``create_micro_space``, which makes one ``MicroSpace``
subclass per variant with the variant's schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces._common import check_space_field, child_overrides
from searchcore.spaces._degenerate import factory_has_parameters, micro_cell_reasons
from searchcore.spaces._micro_net import MicroChild, MicroSupernet, loose_ends
from searchcore.spaces.base import (
    Decision,
    DecisionValue,
    SearchSpace,
    TaskSpec,
    options_class,
    options_from_dict,
)
from searchcore.spaces.ops import OPS, OpFactory

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


def input_labels(count: int) -> tuple[str, ...]:
    return ("c_{k-2}", "c_{k-1}", *(f"node{j}" for j in range(count - 2)))


def micro_schema(
    kind: str, ops: tuple[str, ...], num_nodes: int, cells_per_stage: int, channels: int
) -> Schema:
    """The options of a micro variant: its op list is both the choices and the default of ``ops``."""
    return Schema(kind, (
        Option("ops", "multichoice", ops, "candidate operations of every node input", choices=ops),
        Option("num_nodes", "int", num_nodes, "nodes per cell (B)", 2, MAX_NODES),
        Option("cells_per_stage", "int", cells_per_stage, "normal cells per stage (3 stages)", 1, 6),
        Option("channels", "int", channels, "channels of the first stage", 4, 256),
    ))


class MicroSpace(SearchSpace):
    """The micro cell space of one variant (made by ``micro_space_class``; not registered itself)."""

    op_choices: ClassVar[tuple[str, ...]]  # the variant's op list: every op an architecture may use
    op_table: ClassVar[Mapping[str, OpFactory]]  # op name -> factory (c_in, c_out, stride, affine)
    initial_nodes = {"normal": 2, "reduce": 2}
    options: Any  # the variant's Options

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
        """Any node count 1..8 and any op of the variant's list: a child need not match these options."""
        check_space_field(data, self.name)
        cells = [self._parse_cell(data, cell) for cell in CELLS]
        if len(cells[0]) != len(cells[1]):
            raise ValueError(
                f"normal and reduce cells must have as many nodes ({len(cells[0])} != {len(cells[1])})"
            )
        return MicroArch(*cells)

    def graph(self, arch: MicroArch) -> dict[str, Any]:
        return {"cells": [_cell_graph(cell, arch.cell(cell)) for cell in CELLS]}

    def degenerate_reasons(self, arch: MicroArch) -> list[str]:
        """The normal cell's rules only: the stacked normal cells are the network's depth, while a
        reduction cell of pooling and identity (DARTS' reduce cells) just halves the resolution."""
        return micro_cell_reasons("normal", arch.normal, lambda op: factory_has_parameters(self.op_table[op]))

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
            task.in_channels, task.num_classes, o.channels, o.cells_per_stage, n, plan, sources, affine=False,
            op_table=self.op_table,
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

        logger.debug("building %s child %s with %s", self.name, arch, cfg)
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
            op_table=self.op_table,
        )

    def _parse_cell(self, data: dict[str, Any], cell: str) -> tuple[MicroNode, ...]:
        rows = data.get(cell)
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_NODES:
            raise ValueError(f"{self.name} architecture needs {cell!r}: a list of 1..{MAX_NODES} nodes")
        nodes = []
        for i, row in enumerate(rows):
            where = f"{cell} node {i}"
            if not isinstance(row, list) or len(row) != 4:
                raise ValueError(f"{where}: expected [in0, op0, in1, op1], got {row!r}")
            for src in (row[0], row[2]):
                if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < i + 2:
                    raise ValueError(f"{where}: input must be an integer in 0..{i + 1}, got {src!r}")
            for op in (row[1], row[3]):
                if op not in self.op_choices:
                    known = ", ".join(self.op_choices)
                    raise ValueError(f"{where}: unknown operation {op!r}; choose from {known}")
            nodes.append(MicroNode(row[0], row[1], row[2], row[3]))
        return tuple(nodes)


_VARIANTS: dict[str, tuple[dict[str, Any], type[MicroSpace]]] = {}


def micro_space_class(name: str, variant: Mapping[str, Any], module: str = __name__) -> type[MicroSpace]:
    """The space class of a variant: ``variant`` holds ``description``, ``ops`` and optionally
    ``op_table`` (default ``ops.OPS``), ``num_nodes``, ``cells_per_stage``, ``channels`` (defaults).

    Made once per name and settings (an entry point asks on every ``create_space``); ``module``
    is where the caller binds the classes, for their ``__module__``.
    """
    settings = dict(variant)
    cached = _VARIANTS.get(name)
    if cached is not None and cached[0] == settings:
        return cached[1]
    cls = _variant_class(name, module, **settings)
    _VARIANTS[name] = (settings, cls)
    return cls


def create_micro_space(name: str, variant: Mapping[str, Any], options: Mapping[str, Any]) -> MicroSpace:
    """A micro space of ``variant`` from user options (checked by the variant's schema)."""
    cls = micro_space_class(name, variant)
    return cls(options_from_dict(cls.Options, options))


def _variant_class(
    name: str,
    module: str,
    *,
    description: str,
    ops: Sequence[str],
    op_table: Mapping[str, OpFactory] = OPS,
    num_nodes: int = 5,
    cells_per_stage: int = 2,
    channels: int = 20,
) -> type[MicroSpace]:
    op_list = tuple(ops)
    missing = [op for op in op_list if op not in op_table]
    if missing:
        raise ValueError(f"space {name!r}: its op table has no operation(s) {', '.join(missing)}")
    title = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    schema = micro_schema(f"{name} space", op_list, num_nodes, cells_per_stage, channels)
    namespace = {
        "__module__": module,
        "name": name,
        "description": description,
        "schema": schema,
        "Options": options_class(schema, f"{title}Options", module),
        "op_choices": op_list,
        "op_table": MappingProxyType(dict(op_table)),
    }
    return type(f"{title}Space", (MicroSpace,), namespace)


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
