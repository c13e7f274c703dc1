"""A tiny name -> factory registry, shaped like timm's ``register_model``/``create_model``.

Spaces, controllers and evaluators each own one ``Registry``; their packages expose
``register_x`` / ``create_x`` / ``list_x`` built on it, and the CLI, the web designer and
the parametrised tests all enumerate the same registry.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = factory
            return factory

        return decorator

    def unregister(self, name: str) -> None:
        self.factory(name)  # an unknown name raises the usual error
        del self._entries[name]

    def create(self, name: str, **kwargs: Any) -> T:
        return self.factory(name)(**{k: v for k, v in kwargs.items() if v is not None})

    def factory(self, name: str) -> Callable[..., T]:
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}")
        return self._entries[name]

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries


class KindRegistry(Generic[T]):
    """One instance per task kind (``image``, ``language``) of what differs between kinds.

    Final trainers and exporters each own one; ``register(kind)`` is a class decorator that stores
    an instance with ``.kind`` set, and ``load_builtins`` imports the modules that register the
    shipped kinds the first time anyone asks.
    """

    def __init__(self, what: str, known_label: str, load_builtins: Callable[[], None]) -> None:
        self.what = what
        self.known_label = known_label
        self._load_builtins = load_builtins
        self._instances: dict[str, T] = {}

    def register(self, kind: str) -> Callable[[type], type]:
        def decorator(cls: type) -> type:
            if kind in self._instances:
                raise ValueError(f"a {self.what} for task kind {kind!r} is registered twice")
            instance = cls()
            instance.kind = kind
            self._instances[kind] = instance
            return cls

        return decorator

    def get(self, kind: str) -> T:
        """The instance for ``kind``; raises ``ValueError`` naming the kinds that have one."""
        self._load_builtins()
        if kind not in self._instances:
            known = ", ".join(sorted(self._instances)) or "none"
            raise ValueError(f"no {self.what} for task kind {kind!r}; {self.known_label}: {known}")
        return self._instances[kind]

    def kinds(self) -> list[str]:
        self._load_builtins()
        return sorted(self._instances)
