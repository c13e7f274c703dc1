"""Evaluators, registered by name: ``create_evaluator("shared", context=ctx, config=...)``."""

from __future__ import annotations

from typing import Any

from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.options import check_option_values, keyword_defaults
from searchcore.registry import Registry

_EVALUATORS: Registry[Evaluator] = Registry("evaluator")
register_evaluator = _EVALUATORS.register
INTERNAL_OPTIONS = ("budget_fraction",)  # passed by the search loop, not by users


def create_evaluator(name: str, **kwargs: Any) -> Evaluator:
    _load_builtin_evaluators()
    return _EVALUATORS.create(name, **kwargs)


def check_evaluator_options(name: str, options: dict[str, Any]) -> None:
    """Raise ``ValueError`` for options ``name`` does not take or values of the wrong type, before
    anything is built (the web app checks a search's settings this way when it is created)."""
    _load_builtin_evaluators()
    factory = _EVALUATORS.factory(name)
    defaults = keyword_defaults(getattr(factory, "options_of", factory), skip=INTERNAL_OPTIONS)
    check_option_values(f"{name} evaluator", defaults, options)


def evaluator_class(name: str) -> type[Evaluator]:
    """The registered class (its declared kinds, spaces and needs); unknown names raise."""
    _load_builtin_evaluators()
    factory = _EVALUATORS.factory(name)
    return getattr(factory, "evaluator_class", factory)


def list_evaluators(pattern: str = "*") -> list[str]:
    _load_builtin_evaluators()
    return _EVALUATORS.names(pattern)


def _load_builtin_evaluators() -> None:
    from searchcore.evaluators import benchmark, shared  # noqa: F401


__all__ = ["EpochStats", "Evaluator", "EvaluatorContext", "check_evaluator_options", "create_evaluator",
           "evaluator_class", "list_evaluators", "register_evaluator"]
