"""Evaluators, registered by name: ``create_evaluator("shared", context=ctx, **evaluator_options)``."""

from __future__ import annotations

from typing import Any

from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.evaluators.executor import (
    Executor,
    InProcessExecutor,
    Job,
    JobCancelled,
    JobHooks,
    Ticket,
    run_job,
)
from searchcore.registry import Registry
from searchcore.schema import OptionsError, Schema

_EVALUATORS: Registry[Evaluator] = Registry("evaluator")
register_evaluator = _EVALUATORS.register


def create_evaluator(name: str, **kwargs: Any) -> Evaluator:
    _load_builtin_evaluators()
    return _EVALUATORS.create(name, **kwargs)


def evaluator_schema(name: str) -> Schema:
    """The user-settable options of evaluator ``name`` (unknown names raise)."""
    return evaluator_class(name).schema


def check_evaluator_options(name: str, options: dict[str, Any]) -> None:
    """``evaluator_schema(name).parse`` with one-line messages (``ValueError``), for callers that
    want a sentence rather than ``OptionsError.errors``."""
    schema = evaluator_schema(name)
    try:
        schema.parse(options, fill_defaults=False)
    except OptionsError as exc:
        known = set(schema.names())
        raise ValueError("; ".join(
            f"unknown {name} evaluator option {key}; known: {', '.join(schema.names()) or 'none'}"
            if key not in known else f"{name} evaluator option {key}: {', '.join(messages)}"
            for key, messages in exc.errors.items())) from exc


def evaluator_class(name: str) -> type[Evaluator]:
    """The registered class (its declared kinds, spaces and needs); unknown names raise."""
    _load_builtin_evaluators()
    factory = _EVALUATORS.factory(name)
    return getattr(factory, "evaluator_class", factory)


def list_evaluators(pattern: str = "*") -> list[str]:
    _load_builtin_evaluators()
    return _EVALUATORS.names(pattern)


def _load_builtin_evaluators() -> None:
    from searchcore.evaluators import benchmark, scratch, shared  # noqa: F401


__all__ = ["EpochStats", "Evaluator", "EvaluatorContext", "Executor", "InProcessExecutor", "Job",
           "JobCancelled", "JobHooks", "Ticket",
           "check_evaluator_options", "create_evaluator", "evaluator_class", "evaluator_schema",
           "list_evaluators", "register_evaluator", "run_job"]
