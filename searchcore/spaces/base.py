"""The contract every search space implements.

A space is created from its options (a frozen dataclass) by ``create_space(name, **options)``.
It lists its *decisions* — the ordered questions a controller answers — and converts a list of
answers into an architecture (plain, JSON-able data, like DARTS' ``Genotype``). The same
architecture object drives the supernet path, the standalone child, the drawing and the export.

Decision kinds (the value a controller returns for each):

- ``op``:    pick one of ``choices`` (operation names) -> ``int`` index.
- ``input``: pick one earlier node of the same ``group`` -> ``int`` index into ``choices``;
  candidate ``k`` is node ``k`` of the group (``choices`` are their labels), so an attention
  controller attends over the anchors of nodes ``0 .. len(choices)-1``.
- ``skip``:  any subset of earlier nodes of the group -> ``tuple[int, ...]`` of 0/1 flags, one per
  candidate (NAS-RL / ENAS-macro skip connections; may be all zeros).

``node`` is the index, within ``group``, of the node the decision belongs to. A controller that
keeps anchors (ENAS) adds one anchor per node once the decisions of that node are made; groups
may start with ``initial_nodes[group]`` nodes that exist before any decision (the two cell inputs
of a micro cell), for which the controller creates anchors up front.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

import torch
from torch import nn

DecisionValue = Union[int, tuple[int, ...]]

IMAGE = "image"  # task kind: image classification (TaskSpec: channels, side, classes)
LANGUAGE = "language"  # task kind: word-level language modelling (TaskSpec: vocabulary, sequence)
TASK_KINDS = (IMAGE, LANGUAGE)


@dataclass(frozen=True)
class Decision:
    key: str  # unique within the space, e.g. "normal/node2/in0"
    kind: str  # "op" | "input" | "skip"
    choices: tuple[str, ...]
    group: str  # e.g. "normal", "reduce", "layers", "cell"
    node: int  # index of the node this decision belongs to, within the group

    def __post_init__(self) -> None:
        if self.kind not in ("op", "input", "skip"):
            raise ValueError(f"decision {self.key}: unknown kind {self.kind!r}")
        if self.kind != "skip" and not self.choices:
            raise ValueError(f"decision {self.key}: no choices")

    def validate(self, value: DecisionValue) -> None:
        if self.kind == "skip":
            if not isinstance(value, (tuple, list)) or len(value) != len(self.choices):
                raise ValueError(f"{self.key}: expected {len(self.choices)} skip flags, got {value!r}")
            if any(v not in (0, 1) for v in value):
                raise ValueError(f"{self.key}: skip flags must be 0 or 1, got {value!r}")
        elif not isinstance(value, int) or not 0 <= value < len(self.choices):
            raise ValueError(f"{self.key}: expected an index below {len(self.choices)}, got {value!r}")

    def cardinality(self) -> int:
        return 2 ** len(self.choices) if self.kind == "skip" else len(self.choices)


@dataclass(frozen=True)
class TaskSpec:
    """What the network must fit: input channels and side, and the number of classes."""

    in_channels: int = 3
    image_size: int = 32
    num_classes: int = 10


@dataclass(frozen=True)
class OptionSpec:
    """One user-settable option of a space, described for the GUI designer and the CLI."""

    name: str
    type: str  # "int" | "float" | "choice" | "multichoice" | "bool"
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["choices"] = list(self.choices)
        if isinstance(d["default"], tuple):
            d["default"] = list(d["default"])
        return d


@dataclass(frozen=True)
class SpaceOptions:
    """Base of each space's frozen option dataclass."""


class SearchSpace(abc.ABC):
    """Base class of the search spaces; subclasses set ``name`` and implement the abstract methods."""

    name: ClassVar[str]
    Options: ClassVar[type[SpaceOptions]]
    description: ClassVar[str] = ""
    task_kind: ClassVar[str] = IMAGE  # what its networks do (see ``searchcore.compat``)
    has_supernet: ClassVar[bool] = True  # ``build_supernet`` exists (weight sharing is possible)
    initial_nodes: ClassVar[dict[str, int]] = {}

    def __init__(self, options: SpaceOptions) -> None:
        self.options = options

    # -- decisions ------------------------------------------------------------------
    @abc.abstractmethod
    def decisions(self) -> list[Decision]:
        """The ordered decisions a controller answers for one architecture."""

    @abc.abstractmethod
    def from_decisions(self, values: Sequence[DecisionValue]) -> Any:
        """Build the architecture from one value per decision (validated)."""

    @abc.abstractmethod
    def to_decisions(self, arch: Any) -> list[DecisionValue]:
        """Inverse of ``from_decisions``."""

    # -- data -----------------------------------------------------------------------
    @abc.abstractmethod
    def arch_to_json(self, arch: Any) -> dict[str, Any]:
        """Plain JSON-able dict; includes ``"space": self.name``."""

    @abc.abstractmethod
    def arch_from_json(self, data: dict[str, Any]) -> Any:
        """Parse and validate; raises ``ValueError`` with a clear message on bad input."""

    @abc.abstractmethod
    def graph(self, arch: Any) -> dict[str, Any]:
        """Drawing description: ``{"cells": [{"name", "nodes": [{"id", "label", "kind"}],
        "edges": [{"source", "target", "label"}]}]}``; kind is input|op|output."""

    # -- networks -------------------------------------------------------------------
    @abc.abstractmethod
    def build_supernet(self, task: TaskSpec) -> nn.Module:
        """Shared-weight network; ``forward(x, arch) -> logits`` runs only ``arch``'s path."""

    @abc.abstractmethod
    def build_child(self, arch: Any, task: TaskSpec, **overrides: Any) -> nn.Module:
        """Standalone network of one architecture, ``forward(x) -> logits``.

        ``overrides`` may change sizes for final training (e.g. ``channels``, ``cells_per_stage``,
        ``drop_path``) and add an auxiliary head; unknown keys raise ``TypeError``.
        """

    # -- generic helpers --------------------------------------------------------------
    def size(self) -> int:
        """Number of distinct decision assignments (exact integer)."""
        return math.prod(d.cardinality() for d in self.decisions())

    def sample_random(self, generator: torch.Generator) -> Any:
        values: list[DecisionValue] = []
        for d in self.decisions():
            if d.kind == "skip":
                flags = torch.randint(0, 2, (len(d.choices),), generator=generator).tolist()
                values.append(tuple(int(f) for f in flags))
            else:
                values.append(int(torch.randint(0, len(d.choices), (1,), generator=generator)))
        return self.from_decisions(values)

    def validate_values(self, values: Sequence[DecisionValue]) -> None:
        decisions = self.decisions()
        if len(values) != len(decisions):
            raise ValueError(f"{self.name}: expected {len(decisions)} decisions, got {len(values)}")
        for d, v in zip(decisions, values, strict=False):
            d.validate(v)

    def describe(self) -> dict[str, Any]:
        """JSON for the GUI designer and ``searchcore spaces --json``."""
        decisions = self.decisions()
        return {
            "name": self.name,
            "description": self.description,
            "options": dataclasses.asdict(self.options),
            "decisions": [
                {"key": d.key, "kind": d.kind, "choices": list(d.choices), "group": d.group, "node": d.node}
                for d in decisions
            ],
            "size": str(self.size()),
            "size_log10": round(math.log10(max(self.size(), 1)), 2),
        }

    @classmethod
    def option_specs(cls) -> list[OptionSpec]:
        """Describe the options for the designer; spaces override to add ranges/choices."""
        return [
            OptionSpec(name=f.name, type=_option_type(f.default), default=f.default)
            for f in dataclasses.fields(cls.Options)
        ]


def _option_type(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, tuple):
        return "multichoice"
    return "choice"


def options_from_dict(options_cls: type[SpaceOptions], values: dict[str, Any]) -> SpaceOptions:
    """Build a space's options from user input; unknown names and bad values raise ``ValueError``."""
    known = {f.name: f for f in dataclasses.fields(options_cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        default = known[name].default
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        cleaned[name] = value
    try:
        return options_cls(**cleaned)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


__all__ = [
    "Decision",
    "DecisionValue",
    "IMAGE",
    "LANGUAGE",
    "TASK_KINDS",
    "OptionSpec",
    "SearchSpace",
    "SpaceOptions",
    "TaskSpec",
    "field",
    "options_from_dict",
]
