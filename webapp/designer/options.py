"""Turn the designer's form fields into typed space options, with one message per bad field.

Field names are ``opt-<space>-<option>``; multichoice options come as repeated checkbox values.
``parse_option`` reads one field (the controller and evaluator options use it too, ``strategy``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class MultiValue(Protocol):
    def getlist(self, key: str) -> list[str]: ...
    def get(self, key: str, default: Any = None) -> Any: ...


def field_name(space: str, option: str) -> str:
    return f"opt-{space}-{option}"


def parse_space_options(space: str, specs: Sequence[Mapping[str, Any]],
                        data: MultiValue) -> tuple[dict[str, Any], dict[str, str]]:
    """Return ``(options, errors)``; errors map the option name to a message for that field."""
    options: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        key = field_name(space, spec["name"])
        try:
            options[spec["name"]] = parse_option(spec, data, key)
        except ValueError as exc:
            errors[spec["name"]] = str(exc)
    return options, errors


def parse_option(spec: Mapping[str, Any], data: MultiValue, key: str) -> Any:
    """The typed value of form field ``key`` for option ``spec`` (``ValueError``: a message for it).
    An empty box is the default, or ``None`` ("off") for an option that may be empty."""
    kind = spec["type"]
    if kind == "multichoice":
        return _check_multi(spec, data.getlist(key))
    if kind == "bool":
        return data.get(key) in ("on", "true", "1", "yes")
    raw = data.get(key)
    if raw is None or str(raw).strip() == "":
        return None if spec.get("nullable") else _default(spec)
    return _convert(spec, str(raw).strip())


def _default(spec: Mapping[str, Any]) -> Any:
    default = spec["default"]
    return list(default) if isinstance(default, (list, tuple)) else default


def _convert(spec: Mapping[str, Any], raw: str) -> Any:
    kind = spec["type"]
    if kind == "choice":
        choices = [str(c) for c in spec.get("choices") or []]
        if choices and raw not in choices:
            raise ValueError(f"choose one of {', '.join(choices)}")
        return raw
    try:
        value: int | float = int(raw) if kind == "int" else float(raw)
    except ValueError:
        raise ValueError("enter a whole number" if kind == "int" else "enter a number") from None
    low, high = spec.get("minimum"), spec.get("maximum")
    if low is not None and value < low:
        raise ValueError(f"must be at least {_fmt(low)}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {_fmt(high)}")
    return value


def _check_multi(spec: Mapping[str, Any], values: list[str]) -> list[str]:
    choices = [str(c) for c in spec.get("choices") or []]
    unknown = [v for v in values if choices and v not in choices]
    if unknown:
        raise ValueError(f"unknown choice(s): {', '.join(unknown)}")
    if not values:
        raise ValueError("select at least one")
    return [c for c in choices if c in values] if choices else values


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
