"""Search spaces, registered by name: ``create_space("enas-micro", num_nodes=4)``.

A registry entry is either a space class (registered under ``cls.name``) or, as timm's model
entry points, a small function named after the space (``enas_micro`` -> ``"enas-micro"``) that
builds the space from keyword options by passing its variant's settings (op list, op table,
defaults) to shared machinery, so one cell implementation serves several published spaces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from searchcore.registry import Registry
from searchcore.spaces.base import (
    Decision,
    DecisionValue,
    Option,
    OptionsError,
    OptionSpec,
    Schema,
    SearchSpace,
    SpaceOptions,
    TaskSpec,
    options_from_dict,
)

Entry = TypeVar("Entry", bound=Callable[..., Any])

_SPACES: Registry[SearchSpace] = Registry("search space")
_SPACE_CLASSES: dict[str, type[SearchSpace]] = {}


def register_space(entry: Entry) -> Entry:
    """Decorator: register a space class under ``cls.name``, or an entry-point function under its
    name with ``_`` as ``-``; either is called with the user's options as keyword arguments."""
    if isinstance(entry, type):
        cls: type[SearchSpace] = entry

        def factory(**options: Any) -> SearchSpace:
            return cls(options_from_dict(cls.Options, options))

        _SPACES.register(cls.name)(factory)
        _SPACE_CLASSES[cls.name] = cls
    else:
        _SPACES.register(entry.__name__.replace("_", "-"))(entry)
    return entry


def unregister_space(name: str) -> None:
    """Remove a registered space (a test's or a plugin's); unknown names raise the registry's error."""
    _SPACES.unregister(name)
    _SPACE_CLASSES.pop(name, None)


def create_space(name: str, **options: Any) -> SearchSpace:
    _load_builtin_spaces()
    return _SPACES.create(name, **options)


def list_spaces(pattern: str = "*") -> list[str]:
    _load_builtin_spaces()
    return _SPACES.names(pattern)


def space_class(name: str) -> type[SearchSpace]:
    """The class of a space (its ``schema``, ``option_specs()``, ``task_kind``...); for an entry
    point, the class of the space it builds with the default options."""
    _load_builtin_spaces()
    if name not in _SPACE_CLASSES:
        _SPACE_CLASSES[name] = type(create_space(name))  # unknown names raise the registry's error
    return _SPACE_CLASSES[name]


def _load_builtin_spaces() -> None:
    # Imported lazily so the registry module itself has no import cycle with the spaces.
    from searchcore.spaces import (  # noqa: F401
        enas_macro,
        enas_micro,
        enas_rnn,
        lstm,
        nas_rl_cnn,
        nas_rl_rnn,
        nasnet,
        nb201,
        resnet,
    )


__all__ = [
    "Decision",
    "DecisionValue",
    "Option",
    "OptionSpec",
    "OptionsError",
    "Schema",
    "SearchSpace",
    "SpaceOptions",
    "TaskSpec",
    "create_space",
    "list_spaces",
    "register_space",
    "space_class",
    "unregister_space",
]
