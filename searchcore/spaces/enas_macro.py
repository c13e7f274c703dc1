"""ENAS macro search space (Pham et al. 2018, §2.2): a whole network, one layer at a time.

Per layer ``i``: an ``op`` decision, then (for ``i >= 1``) a ``skip`` decision with one flag per
earlier layer ``0 .. i-1``; a flagged layer's output is added to layer ``i``'s op output.
(ENAS' TF code offers the stem and layers ``0 .. i-2`` instead; we keep the controller's
view — candidate ``k`` is layer ``k`` — so a flag on ``i-1`` is a residual connection.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import check_space_field, child_overrides
from searchcore.spaces._degenerate import factory_has_parameters, parameter_free_reason
from searchcore.spaces._macro_net import MacroChild, MacroSupernet, needed_at_pool, pool_layers
from searchcore.spaces.base import Decision, DecisionValue, SearchSpace, TaskSpec, options_class
from searchcore.spaces.ops import MACRO_OPS, OPS

logger = logging.getLogger(__name__)

MAX_LAYERS = 24
MAX_CHILD_LAYERS = 96


@dataclass(frozen=True)
class MacroLayer:
    op: str
    skips: tuple[int, ...]  # one 0/1 flag per earlier layer


@dataclass(frozen=True)
class MacroArch:
    layers: tuple[MacroLayer, ...]


SCHEMA = Schema("enas-macro space", (
    Option("ops", "multichoice", MACRO_OPS, "candidate operations of every layer", choices=MACRO_OPS),
    Option("num_layers", "int", 12, "layers (resolution halves after each third)", 3, MAX_LAYERS),
    Option("channels", "int", 24, "channels of every layer", 4, 256),
))
EnasMacroOptions = options_class(SCHEMA, "EnasMacroOptions", __name__)


def tile(arch: MacroArch, num_layers: int) -> MacroArch:
    """Repeat the searched layers to reach ``num_layers`` (a multiple); skips stay within a copy."""
    n = len(arch.layers)
    if num_layers % n:
        raise ValueError(f"num_layers={num_layers} must be a multiple of the architecture's {n} layers")
    return MacroArch(
        tuple(
            MacroLayer(layer.op, (0,) * (copy * n) + layer.skips)
            for copy in range(num_layers // n)
            for layer in arch.layers
        )
    )


@register_space
class EnasMacroSpace(SearchSpace):
    name = "enas-macro"
    schema = SCHEMA
    Options = EnasMacroOptions
    description = "ENAS macro: one op per layer plus skip connections from any earlier layer"
    initial_nodes = {"layers": 0}
    options: EnasMacroOptions

    def decisions(self) -> list[Decision]:
        out: list[Decision] = []
        for i in range(self.options.num_layers):
            out.append(Decision(f"layers/layer{i}/op", "op", self.options.ops, "layers", i))
            if i > 0:
                labels = tuple(f"layer{k}" for k in range(i))
                out.append(Decision(f"layers/layer{i}/skip", "skip", labels, "layers", i))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> MacroArch:
        self.validate_values(values)
        layers = [MacroLayer(self.options.ops[values[0]], ())]  # type: ignore[index]
        for i in range(1, self.options.num_layers):
            op, skips = values[2 * i - 1], values[2 * i]
            layers.append(MacroLayer(self.options.ops[op], tuple(int(f) for f in skips)))  # type: ignore[index,union-attr]
        return MacroArch(tuple(layers))

    def to_decisions(self, arch: MacroArch) -> list[DecisionValue]:
        if len(arch.layers) != self.options.num_layers:
            raise ValueError(
                f"architecture has {len(arch.layers)} layers; this space has {self.options.num_layers}"
            )
        out: list[DecisionValue] = []
        for i, layer in enumerate(arch.layers):
            if layer.op not in self.options.ops:
                raise ValueError(
                    f"operation {layer.op!r} is not among this space's ops {list(self.options.ops)}"
                )
            out.append(self.options.ops.index(layer.op))
            if i > 0:
                out.append(tuple(layer.skips))
        return out

    def arch_to_json(self, arch: MacroArch) -> dict[str, Any]:
        layers = [{"op": layer.op, "skips": list(layer.skips)} for layer in arch.layers]
        return {"space": self.name, "layers": layers}

    def arch_from_json(self, data: dict[str, Any]) -> MacroArch:
        """Any layer count 1..96 and any op of the full table: a child need not match these options."""
        check_space_field(data, self.name)
        rows = data.get("layers")
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_CHILD_LAYERS:
            raise ValueError(
                f"enas-macro architecture needs 'layers': a list of 1..{MAX_CHILD_LAYERS} layers"
            )
        return MacroArch(tuple(_parse_layer(i, row) for i, row in enumerate(rows)))

    def graph(self, arch: MacroArch) -> dict[str, Any]:
        n = len(arch.layers)
        pools = pool_layers(n)
        nodes = [{"id": "input", "label": "input", "kind": "input"}]
        nodes += [
            {"id": f"layer{i}", "label": f"{i}: {layer.op}", "kind": "op"}
            for i, layer in enumerate(arch.layers)
        ]
        nodes.append({"id": "output", "label": "output", "kind": "output"})
        chain = ["input", *(f"layer{i}" for i in range(n)), "output"]
        edges = [
            {"source": a, "target": b, "label": "reduce" if k - 1 in pools else ""}
            for k, (a, b) in enumerate(zip(chain[:-1], chain[1:], strict=True))
        ]
        edges += [
            {"source": f"layer{k}", "target": f"layer{i}", "label": "skip"}
            for i, layer in enumerate(arch.layers)
            for k, flag in enumerate(layer.skips)
            if flag
        ]
        return {"cells": [{"name": "layers", "nodes": nodes, "edges": edges}]}

    def degenerate_reasons(self, arch: MacroArch) -> list[str]:
        """Every path from the stem to the classifier runs through every layer's op (skips only add
        to it), so the network learns nothing between them exactly when no layer's op has weights."""
        ops = [layer.op for layer in arch.layers]
        return parameter_free_reason("the network", ops, lambda op: factory_has_parameters(OPS[op]))

    def build_supernet(self, task: TaskSpec) -> nn.Module:
        o = self.options
        return MacroSupernet(
            task.in_channels,
            task.num_classes,
            o.channels,
            o.num_layers,
            lambda i: o.ops,
            lambda at: range(at + 1),
            affine=False,
        )

    def build_child(self, arch: MacroArch, task: TaskSpec, **overrides: Any) -> nn.Module:
        o = self.options
        cfg = child_overrides(
            overrides,
            {"channels": o.channels, "num_layers": len(arch.layers), "drop_path": 0.0, "aux_head": False},
            {"layers": "num_layers"},
        )
        full = tile(arch, cfg["num_layers"]) if cfg["num_layers"] != len(arch.layers) else arch
        if cfg["aux_head"] and len(pool_layers(len(full.layers))) < 2:
            raise ValueError("aux_head needs at least 3 layers (it reads the second pooling point)")
        logger.debug("building enas-macro child %s with %s", full, cfg)
        return MacroChild(
            full,
            task.in_channels,
            task.num_classes,
            cfg["channels"],
            len(full.layers),
            lambda i: (full.layers[i].op,),
            lambda p: needed_at_pool(full.layers, p),
            affine=True,
            aux_head=cfg["aux_head"],
            drop_path=cfg["drop_path"],
        )


def _parse_layer(i: int, row: Any) -> MacroLayer:
    if not isinstance(row, dict) or set(row) != {"op", "skips"}:
        raise ValueError(f"layer {i}: expected {{'op': ..., 'skips': [...]}}, got {row!r}")
    if row["op"] not in MACRO_OPS:
        raise ValueError(f"layer {i}: unknown operation {row['op']!r}; choose from {', '.join(MACRO_OPS)}")
    skips = row["skips"]
    if not isinstance(skips, list) or len(skips) != i:
        raise ValueError(f"layer {i}: 'skips' must list {i} flags (one per earlier layer), got {skips!r}")
    if any(isinstance(f, bool) or f not in (0, 1) for f in skips):
        raise ValueError(f"layer {i}: skip flags must be 0 or 1, got {skips!r}")
    return MacroLayer(row["op"], tuple(int(f) for f in skips))
