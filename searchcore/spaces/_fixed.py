"""The base of a space with a single hand-designed network (``resnet20``, ``lstm``): the baselines.

Nothing is chosen: no decisions, no supernet. The architecture is a frozen dataclass with one field
whose default names the network (``ResNetArch.block``, ``LstmArch.cell``), written to JSON as
``{"space": <name>, <field>: <value>}`` and refused with the reason when it says anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from torch import nn

from searchcore.spaces._common import check_space_field
from searchcore.spaces.base import Decision, DecisionValue, SearchSpace, TaskSpec


class FixedArchSpace(SearchSpace):
    """A space whose only architecture is ``arch_type()``; subclasses add ``graph`` and ``build_child``."""

    has_supernet: ClassVar[bool] = False
    arch_type: ClassVar[type]  # a frozen dataclass whose one field ``arch_field`` has a default
    arch_field: ClassVar[str]

    def decisions(self) -> list[Decision]:
        return []

    def from_decisions(self, values: Sequence[DecisionValue]) -> Any:
        self.validate_values(values)
        return self.arch_type()

    def to_decisions(self, arch: Any) -> list[DecisionValue]:
        return []

    def arch_to_json(self, arch: Any) -> dict[str, Any]:
        return {"space": self.name, self.arch_field: getattr(arch, self.arch_field)}

    def arch_from_json(self, data: dict[str, Any]) -> Any:
        data = check_space_field(data, self.name)
        field, value = self.arch_field, getattr(self.arch_type(), self.arch_field)
        if data.get(field) != value:
            raise ValueError(f"a {self.name} architecture has {field!r}: {value!r}, not {data.get(field)!r}")
        unknown = sorted(set(data) - {"space", field})
        if unknown:
            raise ValueError(f"a {self.name} architecture has no field(s) {', '.join(unknown)}")
        return self.arch_type()

    def build_supernet(self, task: TaskSpec) -> nn.Module:
        raise NotImplementedError(f"the {self.name} space is one fixed network: there is no supernet")


__all__ = ["FixedArchSpace"]
