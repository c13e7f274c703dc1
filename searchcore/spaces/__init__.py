"""Search spaces, registered by name: ``create_space("enas-micro", num_nodes=4)``."""

from __future__ import annotations

from typing import Any

from searchcore.registry import Registry
from searchcore.spaces.base import (
    Decision,
    DecisionValue,
    OptionSpec,
    SearchSpace,
    SpaceOptions,
    TaskSpec,
    options_from_dict,
)

_SPACES: Registry[SearchSpace] = Registry("search space")
_SPACE_CLASSES: dict[str, type[SearchSpace]] = {}


def register_space(cls: type[SearchSpace]) -> type[SearchSpace]:
    """Class decorator: registers ``cls`` under ``cls.name``; options come as keyword arguments."""

    def factory(**options: Any) -> SearchSpace:
        return cls(options_from_dict(cls.Options, options))

    _SPACES.register(cls.name)(factory)
    _SPACE_CLASSES[cls.name] = cls
    return cls


def create_space(name: str, **options: Any) -> SearchSpace:
    _load_builtin_spaces()
    return _SPACES.create(name, **options)


def list_spaces(pattern: str = "*") -> list[str]:
    _load_builtin_spaces()
    return _SPACES.names(pattern)


def space_class(name: str) -> type[SearchSpace]:
    _load_builtin_spaces()
    if name not in _SPACE_CLASSES:
        create_space(name)  # raises the registry's clear error
    return _SPACE_CLASSES[name]


def _load_builtin_spaces() -> None:
    # Imported lazily so the registry module itself has no import cycle with the spaces.
    from searchcore.spaces import enas_macro, enas_micro, nb201  # noqa: F401


__all__ = [
    "Decision",
    "DecisionValue",
    "OptionSpec",
    "SearchSpace",
    "SpaceOptions",
    "TaskSpec",
    "create_space",
    "list_spaces",
    "register_space",
    "space_class",
]
