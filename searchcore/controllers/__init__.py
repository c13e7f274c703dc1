"""Controllers, registered by name: ``create_controller("reinforce", decisions=..., seed=0, lr=1e-3)``.

The registry is the only list of controllers: the CLI's ``--controller`` choices and help, the
designer's catalogue and the option checks all read the registered classes (``summary``, ``schema``).
``controller_schema(name)`` validates options without building anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from searchcore.controllers.base import Controller, ControllerStats
from searchcore.registry import Registry
from searchcore.schema import Schema
from searchcore.spaces.base import Decision

_CONTROLLERS: Registry[Controller] = Registry("controller")
register_controller = _CONTROLLERS.register  # decorates a ``Controller`` subclass


def create_controller(name: str, *, decisions: Sequence[Decision],
                      initial_nodes: dict[str, int] | None = None, seed: int | None = 0,
                      **options: Any) -> Controller:
    """Controller ``name`` over ``decisions``; ``options`` are checked by its schema (an unknown name
    raises ``UnknownNameError``, a bad option ``OptionsError``, both before anything is built).
    ``None`` is an option value (e.g. ``temperature=None`` switches the temperature off)."""
    return controller_class(name).build(decisions, initial_nodes, seed=0 if seed is None else seed, **options)


def controller_class(name: str) -> type[Controller]:
    """The registered class (its ``summary``, ``schema``); unknown names raise ``UnknownNameError``."""
    _load_builtin_controllers()
    return _CONTROLLERS.factory(name)  # type: ignore[return-value]


def controller_schema(name: str) -> Schema:
    """The user-settable options of controller ``name`` (unknown names raise)."""
    return controller_class(name).schema


def controller_summaries() -> dict[str, str]:
    """Each registered controller's one-line help, by name."""
    return {name: controller_class(name).summary for name in list_controllers()}


def list_controllers(pattern: str = "*") -> list[str]:
    _load_builtin_controllers()
    return _CONTROLLERS.names(pattern)


def _load_builtin_controllers() -> None:
    from searchcore.controllers import ppo, random_search, reinforce  # noqa: F401


__all__ = ["Controller", "ControllerStats", "controller_class", "controller_schema", "controller_summaries",
           "create_controller", "list_controllers", "register_controller"]
