"""Evaluators, registered by name: ``create_evaluator("shared", context=ctx, config=...)``."""

from __future__ import annotations

from typing import Any

from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.registry import Registry

_EVALUATORS: Registry[Evaluator] = Registry("evaluator")
register_evaluator = _EVALUATORS.register


def create_evaluator(name: str, **kwargs: Any) -> Evaluator:
    _load_builtin_evaluators()
    return _EVALUATORS.create(name, **kwargs)


def list_evaluators(pattern: str = "*") -> list[str]:
    _load_builtin_evaluators()
    return _EVALUATORS.names(pattern)


def _load_builtin_evaluators() -> None:
    from searchcore.evaluators import benchmark, shared  # noqa: F401


__all__ = ["EpochStats", "Evaluator", "EvaluatorContext", "create_evaluator", "list_evaluators",
           "register_evaluator"]
