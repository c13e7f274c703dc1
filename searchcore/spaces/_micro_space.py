"""The micro cell space (ENAS §2.3, NASNet): a normal and a reduction cell of B nodes, any op list.

Each node takes two inputs (either cell input or an earlier node), applies one operation to each
and sums them; the loose ends are concatenated and mixed by a 1x1 conv. Decisions per cell, node
by node: ``in0``, ``op0``, ``in1``, ``op1`` — normal cell first, then the reduction cell. A variant
that declares ``combines`` (NASNet: add or concat) decides each node's merge too, in NASNet's order
``in0``, ``in1``, ``op0``, ``op1``, ``combine`` (``_micro_format``).

Nothing here names an operation. A *variant* (``enas-micro``, ``nasnet`` with its 13 ops) is a
dict — its op list, the op table that builds those ops, its combines, defaults and description —
passed by the space's registry entry point to ``create_micro_space``, which makes one ``MicroSpace``
subclass per variant with the variant's schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces._common import check_space_field, child_overrides
from searchcore.spaces._degenerate import factory_has_parameters, micro_cell_reasons
from searchcore.spaces._micro_format import (
    CELLS,
    COMBINE_FIELDS,
    ENAS_FIELDS,
    MAX_NODES,
    MicroArch,
    MicroNode,
    cell_graph,
    input_labels,
    node_row,
    parse_cell,
)
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

COMBINES = ("add", "concat")  # the merges the network implements (``_micro_net.MicroCell``)


def micro_schema(
    kind: str, ops: tuple[str, ...], num_nodes: int, cells_per_stage: int, channels: int,
    combines: tuple[str, ...] = (),
) -> Schema:
    """The options of a micro variant: its op list is both the choices and the default of ``ops``;
    a variant with ``combines`` gets a ``combines`` option the same way."""
    help_text = "how a node merges its two op outputs: add, or concatenate and reduce by a 1x1 conv"
    merge = (Option("combines", "multichoice", combines, help_text, choices=combines),) if combines else ()
    return Schema(kind, (
        Option("ops", "multichoice", ops, "candidate operations of every node input", choices=ops),
        *merge,
        Option("num_nodes", "int", num_nodes, "nodes per cell (B)", 2, MAX_NODES),
        Option("cells_per_stage", "int", cells_per_stage, "normal cells per stage (3 stages)", 1, 6),
        Option("channels", "int", channels, "channels of the first stage", 4, 256),
    ))


class MicroSpace(SearchSpace):
    """The micro cell space of one variant (made by ``micro_space_class``; not registered itself)."""

    op_choices: ClassVar[tuple[str, ...]]  # the variant's op list: every op an architecture may use
    op_table: ClassVar[Mapping[str, OpFactory]]  # op name -> factory (c_in, c_out, stride, affine)
    combine_choices: ClassVar[tuple[str, ...]] = ()  # every combine a node may use; () = always add
    initial_nodes = {"normal": 2, "reduce": 2}
    options: Any  # the variant's Options

    # -- decisions ---------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        out: list[Decision] = []
        for cell in CELLS:
            for i in range(self.options.num_nodes):
                labels = input_labels(i + 2)
                for field in self._fields():
                    key = f"{cell}/node{i}/{field}"
                    if field.startswith("in"):
                        out.append(Decision(key, "input", labels, cell, i))
                    else:
                        out.append(Decision(key, "op", self._choices(field), cell, i))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> MicroArch:
        self.validate_values(values)
        fields = self._fields()
        width, ops, combines = len(fields), self.options.ops, self._choices("combine")
        per_cell = width * self.options.num_nodes
        cells = []
        for c in range(len(CELLS)):
            v = values[c * per_cell : (c + 1) * per_cell]
            nodes = []
            for k in range(0, per_cell, width):
                f = dict(zip(fields, v[k : k + width], strict=True))
                merge = combines[f["combine"]] if "combine" in f else "add"
                nodes.append(MicroNode(f["in0"], ops[f["op0"]], f["in1"], ops[f["op1"]], merge))
            cells.append(tuple(nodes))
        return MicroArch(*cells)

    def to_decisions(self, arch: MicroArch) -> list[DecisionValue]:
        ops, combines = self.options.ops, self._choices("combine")
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
                if node.combine not in combines:
                    raise ValueError(f"combine {node.combine!r} is not among this space's {list(combines)}")
                index = {"in0": node.in0, "op0": ops.index(node.op0), "in1": node.in1,
                         "op1": ops.index(node.op1), "combine": combines.index(node.combine)}
                out += [index[field] for field in self._fields()]
        return out

    def _fields(self) -> tuple[str, ...]:
        return COMBINE_FIELDS if self.combine_choices else ENAS_FIELDS

    def _choices(self, field: str) -> tuple[str, ...]:
        """The options' choices of an op-kind field (``combine``: ``("add",)`` without combines)."""
        if field == "combine":
            return tuple(self.options.combines) if self.combine_choices else ("add",)
        return tuple(self.options.ops)

    # -- data --------------------------------------------------------------------------
    def arch_to_json(self, arch: MicroArch) -> dict[str, Any]:
        data: dict[str, Any] = {"space": self.name}
        for cell in CELLS:
            data[cell] = [node_row(n, bool(self.combine_choices)) for n in arch.cell(cell)]
        return data

    def arch_from_json(self, data: dict[str, Any]) -> MicroArch:
        """Any node count 1..8, op and combine of the variant's lists: a child need not match the options."""
        check_space_field(data, self.name)
        cells = [parse_cell(self.name, data, cell, self.op_choices, self.combine_choices) for cell in CELLS]
        if len(cells[0]) != len(cells[1]):
            raise ValueError(
                f"normal and reduce cells must have as many nodes ({len(cells[0])} != {len(cells[1])})"
            )
        return MicroArch(*cells)

    def graph(self, arch: MicroArch) -> dict[str, Any]:
        return {"cells": [cell_graph(cell, arch.cell(cell), bool(self.combine_choices)) for cell in CELLS]}

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

        concat = tuple(range(n)) if "concat" in self._choices("combine") else ()
        return MicroSupernet(
            task.in_channels, task.num_classes, o.channels, o.cells_per_stage, n, plan, sources, affine=False,
            op_table=self.op_table, merges=lambda kind: concat,
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
            merges=lambda kind: tuple(i for i, n in enumerate(arch.cell(kind)) if n.combine == "concat"),
        )


_VARIANTS: dict[str, tuple[dict[str, Any], type[MicroSpace]]] = {}


def micro_space_class(name: str, variant: Mapping[str, Any], module: str = __name__) -> type[MicroSpace]:
    """The space class of a variant: ``variant`` holds ``description``, ``ops`` and optionally
    ``op_table`` (default ``ops.OPS``), ``combines`` (default none: nodes add), ``num_nodes``,
    ``cells_per_stage``, ``channels`` (defaults).

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
    combines: Sequence[str] = (),
    num_nodes: int = 5,
    cells_per_stage: int = 2,
    channels: int = 20,
) -> type[MicroSpace]:
    op_list = tuple(ops)
    missing = [op for op in op_list if op not in op_table]
    if missing:
        raise ValueError(f"space {name!r}: its op table has no operation(s) {', '.join(missing)}")
    combine_list = tuple(combines)
    unknown = [c for c in combine_list if c not in COMBINES]
    if unknown:
        raise ValueError(f"space {name!r}: unknown combine(s) {', '.join(unknown)}; known: add, concat")
    title = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    schema = micro_schema(f"{name} space", op_list, num_nodes, cells_per_stage, channels, combine_list)
    namespace = {
        "__module__": module,
        "name": name,
        "description": description,
        "schema": schema,
        "Options": options_class(schema, f"{title}Options", module),
        "op_choices": op_list,
        "op_table": MappingProxyType(dict(op_table)),
        "combine_choices": combine_list,
    }
    return type(f"{title}Space", (MicroSpace,), namespace)


__all__ = ["CELLS", "COMBINES", "MAX_NODES", "MicroArch", "MicroNode", "MicroSpace", "create_micro_space",
           "input_labels", "micro_schema", "micro_space_class"]
