"""Checks for user-given options (controller and evaluator settings from the web form or API).

Options arrive as JSON, so a number may come as a string or a flag as a number. The factories
check names and value types up front and raise ``ValueError`` with a message a user can act on,
instead of a ``TypeError`` deep inside a constructor once the search is already running.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def check_option_values(kind: str, defaults: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """Unknown names and values of the wrong type (judged by each option's default) raise ``ValueError``."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        known = ", ".join(sorted(defaults)) or "none"
        raise ValueError(f"unknown {kind} option(s) {', '.join(unknown)}; known: {known}")
    for name, value in options.items():
        problem = _type_problem(defaults[name], value)
        if problem:
            raise ValueError(f"{kind} option {name}: {problem}, not {value!r}")


def keyword_defaults(target: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """The keyword-only parameters of ``target`` and their defaults (its user-settable options)."""
    skipped = set(skip)
    return {p.name: p.default for p in inspect.signature(target).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in skipped}


def _type_problem(default: Any, value: Any) -> str | None:
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be a whole number"
    if isinstance(default, float) or default is None:
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        return None if ok else "must be a number"
    return None
