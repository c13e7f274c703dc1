"""Controllers, registered by name: ``create_controller("reinforce", decisions=..., seed=0)``."""

from __future__ import annotations

from typing import Any

from searchcore.controllers.base import Controller, ControllerStats
from searchcore.registry import Registry

_CONTROLLERS: Registry[Controller] = Registry("controller")
register_controller = _CONTROLLERS.register


def create_controller(name: str, **kwargs: Any) -> Controller:
    _load_builtin_controllers()
    return _CONTROLLERS.create(name, **kwargs)


def list_controllers(pattern: str = "*") -> list[str]:
    _load_builtin_controllers()
    return _CONTROLLERS.names(pattern)


def _load_builtin_controllers() -> None:
    from searchcore.controllers import lstm, random_search  # noqa: F401


__all__ = ["Controller", "ControllerStats", "create_controller", "list_controllers", "register_controller"]
