"""Run-time checks of payload values against the event dataclasses' type hints.

Only the hint shapes the event types use are understood: ``int``, ``float``, ``str``, ``bool``,
``dict[...]``, ``list[...]``, ``Any``, ``Literal[...]`` and unions with ``None``.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any, Literal, Union

_NONE = type(None)


@functools.cache
def resolved_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_value(event_type: str, name: str, value: Any, hint: Any) -> None:
    """``TypeError`` (``ValueError`` for a value outside a ``Literal``) naming the event and field."""
    if matches(value, hint):
        return
    choices = literal_choices(hint)
    if choices and isinstance(value, str):
        raise ValueError(f"{event_type} event: field {name!r} must be one of {hint_text(hint)}, "
                         f"got {value!r}")
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise TypeError(f"{event_type} event: field {name!r} must be {hint_text(hint)}, "
                    f"got {type(value).__name__} {shown}")


def matches(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if hint is _NONE or hint is None:
        return value is None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(matches(value, arg) for arg in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint) and not isinstance(value, bool)
    if origin is not None:
        hint = origin  # dict[str, Any] -> dict, list[int] -> list (contents are free-form JSON)
    if hint is list:
        return isinstance(value, (list, tuple))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def allows_none(hint: Any) -> bool:
    return any(arg is _NONE for arg in _members(hint))


def is_float_hint(hint: Any, *, allow_none: bool) -> bool:
    members = _members(hint)
    return float in members and (allow_none or _NONE not in members)


def literal_choices(hint: Any) -> tuple[Any, ...]:
    literals = [arg for arg in _members(hint) if typing.get_origin(arg) is Literal]
    return tuple(choice for arg in literals for choice in typing.get_args(arg))


def hint_text(hint: Any, *, drop_none: bool = False) -> str:
    """``float | None``, ``"succeeded" | "failed"``, ``dict`` ... for messages and the catalogue."""
    parts = []
    for arg in _members(hint):
        if arg is _NONE:
            if not drop_none:
                parts.append("null")
        elif typing.get_origin(arg) is Literal:
            parts.extend(f'"{choice}"' for choice in typing.get_args(arg))
        elif arg is Any:
            parts.append("any")
        else:
            parts.append(getattr(typing.get_origin(arg) or arg, "__name__", str(arg)))
    return " | ".join(parts)
