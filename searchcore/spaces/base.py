"""The contract every search space implements.

A space is created from its options by ``create_space(name, **options)``. Each space declares its
options once, as a ``Schema`` (name, type, default, range or choices, help); the frozen options
dataclass, the designer's specs, the CLI's ``KEY=VALUE`` parsing and the JSON checks all come from it.
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

from searchcore.schema import Option, OptionsError, Schema

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
    """What the network must fit, by task kind.

    Image classification (``kind=IMAGE``): ``in_channels``, ``image_size`` (the side of the square
    input) and ``num_classes``. Language modelling (``kind=LANGUAGE``): ``vocab_size`` (also the
    number of output classes, one per word) and ``seq_len`` (tokens per training sequence); the
    image fields are then unused. The first three fields keep their order (callers pass them
    positionally); build tasks with :meth:`image` / :meth:`language` where the kind matters.
    """

    in_channels: int = 3
    image_size: int = 32
    num_classes: int = 10
    kind: str = IMAGE
    vocab_size: int = 0
    seq_len: int = 0

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"unknown task kind {self.kind!r}; known: {', '.join(TASK_KINDS)}")
        if self.kind == IMAGE:
            for name in ("in_channels", "image_size", "num_classes"):
                if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                    raise ValueError(f"an image task needs {name} >= 1, got {getattr(self, name)!r}")
        else:
            if not isinstance(self.vocab_size, int) or self.vocab_size < 2:
                raise ValueError(f"a language task needs a vocabulary of >= 2 words, got {self.vocab_size!r}")
            if not isinstance(self.seq_len, int) or self.seq_len < 1:
                raise ValueError(f"a language task needs seq_len >= 1, got {self.seq_len!r}")

    @classmethod
    def image(cls, channels: int, side: int, classes: int) -> TaskSpec:
        return cls(in_channels=channels, image_size=side, num_classes=classes, kind=IMAGE)

    @classmethod
    def language(cls, vocab_size: int, seq_len: int) -> TaskSpec:
        """``num_classes`` is the vocabulary: a language model predicts one word of it per position."""
        return cls(in_channels=1, image_size=1, num_classes=vocab_size, kind=LANGUAGE,
                   vocab_size=vocab_size, seq_len=seq_len)

    def to_dict(self) -> dict[str, Any]:
        """Only the fields of its kind, so the JSON says what the task is."""
        if self.kind == IMAGE:
            return {"kind": IMAGE, "in_channels": self.in_channels, "image_size": self.image_size,
                    "num_classes": self.num_classes}
        return {"kind": LANGUAGE, "vocab_size": self.vocab_size, "seq_len": self.seq_len}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpec:
        """Inverse of :meth:`to_dict`; a dict without ``kind`` is an image task (older files)."""
        kind = data.get("kind", IMAGE)
        wanted = ("kind", "vocab_size", "seq_len") if kind == LANGUAGE else (
            "kind", "in_channels", "image_size", "num_classes")
        unknown = sorted(set(data) - set(wanted))
        if unknown:
            raise ValueError(f"a {kind} task has no field(s) {', '.join(unknown)}")
        if kind == LANGUAGE:
            return cls.language(int(data["vocab_size"]), int(data["seq_len"]))
        if kind != IMAGE:
            raise ValueError(f"unknown task kind {kind!r}; known: {', '.join(TASK_KINDS)}")
        return cls.image(int(data.get("in_channels", 3)), int(data.get("image_size", 32)),
                         int(data.get("num_classes", 10)))


@dataclass(frozen=True)
class SpaceOptions:
    """Base of each space's frozen options dataclass (made by ``options_class``)."""


OptionSpec = Option  # the designer's field description: one option of a space's schema


def options_class(schema: Schema, class_name: str, module: str) -> type[SpaceOptions]:
    """The frozen options dataclass of a space; constructing one checks the values by ``schema``.

    ``module`` is where the class is bound to ``class_name`` (its ``__name__``), so it pickles.
    """
    cls = schema.make_dataclass(class_name, bases=(SpaceOptions,))
    cls.__module__ = module
    return cls


class SearchSpace(abc.ABC):
    """Base class of the search spaces; subclasses set ``name`` and implement the abstract methods."""

    name: ClassVar[str]
    schema: ClassVar[Schema]  # the options, declared once: ranges, choices, defaults, help
    Options: ClassVar[type[SpaceOptions]]  # ``schema.make_dataclass``: validates through the schema
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

    def load_child_from_supernet(self, child: nn.Module, supernet: nn.Module) -> None:
        """Give ``child`` (built at the supernet's sizes) the supernet's weights of its own
        architecture: the child's own ``load_from_supernet`` when it has one, else every tensor the
        supernet holds under the same name (BN scales/shifts the supernet lacks become 1/0)."""
        from searchcore.spaces._common import copy_weights  # the spaces' shared helper

        loader = getattr(child, "load_from_supernet", None)
        with torch.no_grad():
            loader(supernet) if callable(loader) else copy_weights(child, supernet)

    # -- quality ----------------------------------------------------------------------
    def degenerate_reasons(self, arch: Any) -> list[str]:
        """Sentences saying why ``arch`` is degenerate (a collapse such as cells of parameter-free
        operations only); ``[]`` when it is not. Derive prefers architectures without reasons.
        The default declares no rules; spaces override it (helpers in ``spaces._degenerate``)."""
        return []

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
    def option_specs(cls) -> list[Option]:
        """The options for the designer and the CLI (``to_dict()`` gives the JSON field)."""
        return list(cls.schema.options)


def options_from_dict(options_cls: type[SpaceOptions], values: Any) -> SpaceOptions:
    """A space's options from user input (JSON or keyword arguments), checked by its schema.

    Unknown names and bad values raise ``OptionsError`` (a ``ValueError``) naming each option.
    """
    schema: Schema = options_cls.schema  # type: ignore[attr-defined]
    return options_cls(**schema.parse(values))


__all__ = [
    "Decision",
    "DecisionValue",
    "IMAGE",
    "LANGUAGE",
    "TASK_KINDS",
    "Option",
    "OptionSpec",
    "OptionsError",
    "Schema",
    "SearchSpace",
    "SpaceOptions",
    "TaskSpec",
    "field",
    "options_class",
    "options_from_dict",
]
