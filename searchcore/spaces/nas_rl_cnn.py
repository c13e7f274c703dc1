"""NAS-RL convolutional search space (Zoph & Le, ICLR 2017, §3.1 and §3.3): a whole network, one
convolutional layer at a time, children trained from scratch.

Per layer ``i``, in the paper's order (its Figure 4): for ``i >= 1`` a ``skip`` decision with one
flag per earlier layer ``0 .. i-1`` (the anchor point: is layer ``k`` an input of layer ``i``; the
controller scores it by P(k -> i) = sigmoid(v^T tanh(W_prev h_k + W_curr h_i)), see
``controllers/policy.py``), then ``op`` decisions for the filter height, the filter width, the
stride (``stride="searched"``: 1, 2 or 3; ``"fixed"``: always 1, no decision) and the filter count.
Nothing else connects the layers: a layer with no flagged input reads the image, and the layers no
later layer reads are concatenated for the classifier (``_nas_rl_net.py`` has the network).

The defaults are the paper's per-layer choices (heights and widths 1, 3, 5, 7; 24, 36, 48 or 64
filters) and its starting depth of 6 layers (it grew to 15 later in its search). For CPU runs, pick
smaller filter counts, or keep the paper's and lower ``channels``: every child is built with its
chosen counts times ``channels / 24`` (the architecture keeps the chosen counts; final training's
``channels``, transfer and the budget planner scale children by the same knob).

Decision choices are labelled by what they set (``"height 3"``, ``"width 3"``, ``"36 filters"``,
``"stride 2"``): the policy shares a softmax head and embedding between decisions with equal
choices, so this keeps one per kind of prediction even where heights and widths offer the same sizes.

There is no shared-weight supernet: NAS-RL trains every child on its own, so the space is served
by evaluators that train children from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import check_space_field
from searchcore.spaces._nas_rl_net import NasRlChild, output_layers
from searchcore.spaces.base import Decision, DecisionValue, SearchSpace, TaskSpec, options_class

KERNEL_SIZES = ("1", "3", "5", "7")
FILTER_COUNTS = ("8", "12", "16", "24", "36", "48", "64", "96", "128")
PAPER_FILTER_COUNTS = ("24", "36", "48", "64")
STRIDES = (1, 2, 3)
BASE_FILTERS = 24  # the paper's smallest count: the unit ``channels`` is measured against
STRIDE_MODES = ("fixed", "searched")
MAX_LAYERS = 24
LAYER_FIELDS = {"height", "width", "filters", "stride", "inputs"}

SCHEMA = Schema("nas-rl-cnn space", (
    Option("num_layers", "int", 6, "convolutional layers (the paper starts at 6 and grows to 15)", 2,
           MAX_LAYERS),
    Option("stride", "choice", "fixed", "fixed: every layer has stride 1; searched: 1, 2 or 3 per layer",
           choices=STRIDE_MODES),
    Option("filter_heights", "multichoice", KERNEL_SIZES, "candidate filter heights of every layer",
           choices=KERNEL_SIZES),
    Option("filter_widths", "multichoice", KERNEL_SIZES, "candidate filter widths of every layer",
           choices=KERNEL_SIZES),
    Option("filter_counts", "multichoice", PAPER_FILTER_COUNTS,
           "candidate filter counts of every layer (the paper: 24, 36, 48, 64)", choices=FILTER_COUNTS),
    Option("channels", "int", BASE_FILTERS, f"width: the filters a layer that chose {BASE_FILTERS} gets; "
           f"every layer's count is scaled by channels / {BASE_FILTERS} ({BASE_FILTERS}: as chosen)", 1, 256),
))
NasRlCnnOptions = options_class(SCHEMA, "NasRlCnnOptions", __name__)


@dataclass(frozen=True)
class NasRlLayer:
    height: int
    width: int
    filters: int
    stride: int
    inputs: tuple[int, ...]  # one 0/1 flag per earlier layer: is it an input of this one


@dataclass(frozen=True)
class NasRlArch:
    layers: tuple[NasRlLayer, ...]


@register_space
class NasRlCnnSpace(SearchSpace):
    name = "nas-rl-cnn"
    schema = SCHEMA
    Options = NasRlCnnOptions
    description = ("NAS-RL (Zoph & Le 2017): a stack of conv layers; per layer the filter height, width "
                   "and count (and stride), and which earlier layers feed it; every child is trained "
                   "from scratch (no supernet)")
    has_supernet: ClassVar[bool] = False
    initial_nodes = {"layers": 0}
    options: NasRlCnnOptions

    # -- decisions ------------------------------------------------------------------
    def _choices(self) -> dict[str, tuple[int, ...]]:
        o = self.options
        choices = {"height": tuple(map(int, o.filter_heights)), "width": tuple(map(int, o.filter_widths))}
        if o.stride == "searched":
            choices["stride"] = STRIDES
        choices["filters"] = tuple(map(int, o.filter_counts))
        return choices

    def decisions(self) -> list[Decision]:
        out: list[Decision] = []
        labels = {"height": "height {}", "width": "width {}", "stride": "stride {}", "filters": "{} filters"}
        for i in range(self.options.num_layers):
            if i > 0:
                earlier = tuple(f"layer{k}" for k in range(i))
                out.append(Decision(f"layers/layer{i}/inputs", "skip", earlier, "layers", i))
            for field, values in self._choices().items():
                names = tuple(labels[field].format(v) for v in values)
                out.append(Decision(f"layers/layer{i}/{field}", "op", names, "layers", i))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> NasRlArch:
        self.validate_values(values)
        choices = self._choices()
        rows: list[dict[str, Any]] = [{"stride": 1, "inputs": ()} for _ in range(self.options.num_layers)]
        for d, value in zip(self.decisions(), values, strict=True):
            field = d.key.rsplit("/", 1)[1]
            row = rows[d.node]
            row[field] = tuple(int(f) for f in value) if d.kind == "skip" else choices[field][value]  # type: ignore[arg-type,index,union-attr]
        return NasRlArch(tuple(NasRlLayer(**row) for row in rows))

    def to_decisions(self, arch: NasRlArch) -> list[DecisionValue]:
        if len(arch.layers) != self.options.num_layers:
            raise ValueError(f"architecture has {len(arch.layers)} layers; "
                             f"this space has {self.options.num_layers}")
        choices = self._choices()
        out: list[DecisionValue] = []
        for i, layer in enumerate(arch.layers):
            if i > 0:
                out.append(tuple(layer.inputs))
            if "stride" not in choices and layer.stride != 1:
                raise ValueError(f"layer {i} has stride {layer.stride}; this space fixes every stride at 1")
            for field, values in choices.items():
                value = getattr(layer, field)
                if value not in values:
                    raise ValueError(f"layer {i}: {field} {value} is not among this space's {list(values)}")
                out.append(values.index(value))
        return out

    # -- data -----------------------------------------------------------------------
    def arch_to_json(self, arch: NasRlArch) -> dict[str, Any]:
        layers = [{"height": layer.height, "width": layer.width, "filters": layer.filters,
                   "stride": layer.stride, "inputs": list(layer.inputs)} for layer in arch.layers]
        return {"space": self.name, "layers": layers}

    def arch_from_json(self, data: dict[str, Any]) -> NasRlArch:
        """Any depth 1..24 and any size of the full tables: a child need not match these options."""
        check_space_field(data, self.name)
        rows = data.get("layers")
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_LAYERS:
            raise ValueError(f"a nas-rl-cnn architecture needs 'layers': a list of 1..{MAX_LAYERS} layers")
        unknown = sorted(set(data) - {"space", "layers"})
        if unknown:
            raise ValueError(f"a nas-rl-cnn architecture has no field(s) {', '.join(unknown)}")
        return NasRlArch(tuple(_parse_layer(i, row) for i, row in enumerate(rows)))

    def graph(self, arch: NasRlArch) -> dict[str, Any]:
        """The stack drawn with every connection: from the layers a layer reads (``skip`` unless it is
        the one just before), or from the image when it reads none; unread layers feed the output."""
        nodes = [{"id": "input", "label": "image", "kind": "input"}]
        nodes += [{"id": f"layer{i}", "label": _layer_label(i, layer), "kind": "op"}
                  for i, layer in enumerate(arch.layers)]
        nodes.append({"id": "output", "label": "concat, pool, linear", "kind": "output"})
        edges = []
        for i, layer in enumerate(arch.layers):
            sources = [k for k, flag in enumerate(layer.inputs) if flag]
            if not sources:
                edges.append({"source": "input", "target": f"layer{i}", "label": "" if i == 0 else "image"})
            edges += [{"source": f"layer{k}", "target": f"layer{i}", "label": "" if k == i - 1 else "skip"}
                      for k in sources]
        outputs = output_layers(arch.layers)
        edges += [{"source": f"layer{k}", "target": "output", "label": "concat" if len(outputs) > 1 else ""}
                  for k in outputs]
        return {"cells": [{"name": f"{len(arch.layers)} conv layers", "nodes": nodes, "edges": edges}]}

    def degenerate_reasons(self, arch: NasRlArch) -> list[str]:
        """Every layer lies on a path from the image to the classifier (a layer reads the image or
        earlier layers, and an unread one feeds the classifier), so the network combines
        neighbouring pixels exactly when some filter is larger than 1x1."""
        if all(layer.height == 1 and layer.width == 1 for layer in arch.layers):
            return ["every filter of the network is 1x1: no layer combines neighbouring pixels, so the "
                    "classifier sees only an average of per-pixel colour features"]
        return []

    # -- networks -------------------------------------------------------------------
    def build_supernet(self, task: TaskSpec) -> nn.Module:
        raise NotImplementedError(f"the {self.name} space has no shared-weight supernet: NAS-RL trains "
                                  "every child from scratch")

    def build_child(self, arch: NasRlArch, task: TaskSpec, *, channels: int | None = None,
                    drop_path: float | None = None) -> NasRlChild:
        """``channels`` (default: the option) scales every layer's filter count by ``channels / 24``
        (final training and transfer at another width); ``drop_path``: ScheduledDropPath on the skip
        connections (``_nas_rl_net``)."""
        width = self.options.channels if channels is None else channels
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"channels must be a whole number >= 1, not {width!r}")
        prob = 0.0 if drop_path is None else float(drop_path)
        if not 0.0 <= prob < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), not {prob}")
        return NasRlChild(arch, task.in_channels, task.num_classes, width / BASE_FILTERS, drop_path=prob)


def _layer_label(i: int, layer: NasRlLayer) -> str:
    stride = f", stride {layer.stride}" if layer.stride != 1 else ""
    return f"{i}: conv {layer.height}x{layer.width}, {layer.filters}{stride}"


def _parse_layer(i: int, row: Any) -> NasRlLayer:
    if not isinstance(row, dict) or set(row) != LAYER_FIELDS:
        raise ValueError(f"layer {i}: expected the fields {', '.join(sorted(LAYER_FIELDS))}, got {row!r}")
    allowed = {"height": KERNEL_SIZES, "width": KERNEL_SIZES, "filters": FILTER_COUNTS,
               "stride": tuple(map(str, STRIDES))}
    for field, values in allowed.items():
        value = row[field]
        if isinstance(value, bool) or not isinstance(value, int) or str(value) not in values:
            raise ValueError(f"layer {i}: {field} must be one of {', '.join(values)}, not {value!r}")
    flags = row["inputs"]
    if not isinstance(flags, list) or len(flags) != i:
        raise ValueError(f"layer {i}: 'inputs' must list {i} flags (one per earlier layer), got {flags!r}")
    if any(isinstance(f, bool) or f not in (0, 1) for f in flags):
        raise ValueError(f"layer {i}: input flags must be 0 or 1, got {flags!r}")
    return NasRlLayer(row["height"], row["width"], row["filters"], row["stride"],
                      tuple(int(f) for f in flags))


__all__ = ["NasRlArch", "NasRlCnnOptions", "NasRlCnnSpace", "NasRlLayer"]
