"""What the results page shows: best architecture, final-training curves, test metrics, config."""

from __future__ import annotations

import logging
from typing import Any

from searchcore.registry import UnknownNameError
from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE, LANGUAGE
from webapp.pages.graphs import NoGraph, cell_names
from webapp.pages.pareto import pareto_data
from webapp.pages.templatetags.pages_tags import duration
from webapp.searches.events import latest_of_type, payloads_of_type
from webapp.searches.models import Search, TrainedModel

logger = logging.getLogger(__name__)

CONFIG_LABELS = (
    ("space", "Search space"), ("controller", "Controller"), ("evaluator", "Evaluator"),
    ("budget", "Search budget"), ("final_budget", "Final training"), ("seed", "Seed"),
)


def task_kind(search: Search) -> str:
    """The search's task kind (its space's; ``image`` for a space no longer registered)."""
    try:
        return space_class(str((search.config or {}).get("space"))).task_kind
    except UnknownNameError:
        return IMAGE


def results_context(search: Search) -> dict[str, Any]:
    trained = TrainedModel.objects.filter(search=search).first()
    metrics = _metrics(search, trained)
    kind = task_kind(search)
    final_epochs = payloads_of_type(search.pk, "final_epoch")
    if kind == LANGUAGE and metrics.get("history"):  # its rows carry train and valid perplexity
        final_epochs = [row for row in metrics["history"] if isinstance(row, dict)]
    try:
        best_cells = cell_names(search, "best")
    except NoGraph:
        best_cells = []
    return {
        "search": search,
        "task_kind": kind,
        "samples": _samples(metrics) if kind == LANGUAGE else [],
        "valid_perplexity": _valid_perplexity(metrics) if kind == LANGUAGE else None,
        "trained": trained,
        "metrics": metrics,
        "test_accuracy": metrics.get("test_accuracy", metrics.get("accuracy")) if metrics else None,
        "per_class": _per_class_rows(metrics),
        "confusion": {"matrix": metrics.get("confusion_matrix"), "class_names": metrics.get("class_names")}
        if metrics.get("confusion_matrix") else None,
        "final_epochs": final_epochs,
        "best_cells": best_cells,
        "pareto": pareto_data(search),  # accuracy vs latency, with a latency target only
        "config_rows": config_rows(search.config or {}),
        "at_chance": _at_chance(metrics),
        "degenerate": degenerate_reasons(search),
    }


def _valid_perplexity(metrics: dict[str, Any]) -> float | None:
    """The kept weights' validation perplexity: the metric if stored, else the best epoch's in history
    (the trainer keeps the weights of the lowest validation perplexity)."""
    if isinstance(metrics.get("valid_perplexity"), (int, float)):
        return float(metrics["valid_perplexity"])
    values = [row.get("valid_perplexity") for row in metrics.get("history") or [] if isinstance(row, dict)]
    values = [float(v) for v in values if isinstance(v, (int, float))]
    return min(values) if values else None


def _samples(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """The continuations the worker generated after final training (``worker.task_kinds``)."""
    rows = metrics.get("samples")
    if not isinstance(rows, list):
        return []
    return [{"prompt": str(r.get("prompt", "")), "continuation": str(r.get("continuation", ""))}
            for r in rows if isinstance(r, dict)]


def _at_chance(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The final model's chance verdict (``training.verdict``) when it is not clearly above chance."""
    verdict = metrics.get("verdict")
    return verdict if isinstance(verdict, dict) and verdict.get("above_chance") is False else None


def degenerate_reasons(search: Search) -> list[str]:
    """Why the best architecture is degenerate, as the last ``best`` event said (``[]``: it is not,
    or a search from before the check)."""
    reasons = (search.best or {}).get("degenerate") if isinstance(search.best, dict) else None
    return [str(r) for r in reasons] if isinstance(reasons, list) else []


def _metrics(search: Search, trained: TrainedModel | None) -> dict[str, Any]:
    if trained and trained.metrics:
        return dict(trained.metrics)
    event = latest_of_type(search.pk, "evaluation")
    return dict((event.payload or {}).get("metrics") or {}) if event else {}


def _per_class_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    per_class = metrics.get("per_class") or {}
    if isinstance(per_class, list):
        return [dict(row) for row in per_class]
    return [{"name": name, **values} for name, values in per_class.items()]


def config_rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    config = {**config, **_budget_views(config)}
    rows = [(label, _fmt(config[key])) for key, label in CONFIG_LABELS if config.get(key) not in (None, "")]
    for name, value in sorted((config.get("space_options") or {}).items()):
        rows.append((name.replace("_", " "), _fmt(value)))
    return rows


def _budget_views(config: dict[str, Any]) -> dict[str, Any]:
    """The engine config's budget fields (``budget_seconds``..., ``final``) as the two budget rows."""
    if "budget" in config or "final_budget" in config:  # an old-shaped config
        return {}
    final = config.get("final") or {}
    return {"budget": {"seconds": config.get("budget_seconds"), "max_archs": config.get("max_archs"),
                       "max_epochs": config.get("max_epochs")},
            "final_budget": {"seconds": final.get("budget_seconds"), "epochs": final.get("epochs")}}


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        parts = [_budget_part(k, v) for k, v in value.items() if v not in (None, "")]
        return ", ".join(parts) or "—"
    return str(value)


BUDGET_UNITS = {"max_archs": "architectures", "max_epochs": "epochs", "epochs": "epochs"}


def _budget_part(key: str, value: Any) -> str:
    if key == "seconds":
        return duration(value)
    return f"{value} {BUDGET_UNITS.get(key, key.replace('_', ' '))}"
