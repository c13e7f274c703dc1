"""Whether a final model learned anything: its validation accuracy against chance.

Chance is the larger of ``1 / num_classes`` and the majority class's share of the validation
split (predicting the most frequent class everywhere scores that). A model is *clearly above*
chance when its best validation accuracy reaches ``chance + max(MIN_MARGIN, 2 * se)``, where ``se =
sqrt(p (1 - p) / n)`` is the standard error of an accuracy measured on ``n`` validation images at
``p = chance``: on a small split, a chance-level model lands a few points above chance by luck
alone. The threshold is capped midway between chance and 1, so that on a very imbalanced split
(chance 0.97) a model that is nearly always right still passes.

A run whose model is not clearly above chance is reported as failed (the worker, the CLI), with a
suggested budget: ``suggested_budget_seconds``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

MIN_MARGIN = 0.05  # accuracy points above chance that a model must reach at least
MIN_SUGGESTED_MINUTES = 10


def chance_level(labels: Sequence[int], num_classes: int) -> float:
    """The accuracy of guessing: ``max(1 / num_classes, the majority share of labels)``."""
    uniform = 1.0 / max(num_classes, 1)
    if not labels:
        return uniform
    return max(uniform, max(Counter(labels).values()) / len(labels))


def chance_verdict(valid_accuracy: float, labels: Sequence[int], num_classes: int) -> dict[str, Any]:
    """``{above_chance, chance, threshold, valid_accuracy, valid_images, reason}`` for a model of
    best validation accuracy ``valid_accuracy`` (0..1) on a split of ``labels``; ``reason`` is a
    sentence when the model is not clearly above chance, else ``None``."""
    n = len(labels)
    chance = chance_level(labels, num_classes)
    std_err = math.sqrt(chance * (1.0 - chance) / n) if n else 0.0
    threshold = min(chance + max(MIN_MARGIN, 2.0 * std_err), (1.0 + chance) / 2.0)
    above = valid_accuracy >= threshold - 1e-9  # 150 of 1000 right reaches 0.1 + 0.05 despite rounding
    reason = None if above else (f"The final model is at chance level on validation "
                                 f"({valid_accuracy:.1%} vs chance {chance:.1%})").replace("%", " %")
    return {"above_chance": above, "chance": round(chance, 6), "threshold": round(threshold, 6),
            "valid_accuracy": valid_accuracy, "valid_images": n, "reason": reason}


def validation_verdict(valid_accuracy: float | None, data: Any) -> dict[str, Any] | None:
    """``chance_verdict`` for a trainer's loaded data (``data.valid.labels``, ``data.task()``);
    ``None`` without a validation accuracy or without validation labels (nothing to judge by)."""
    labels = getattr(getattr(data, "valid", None), "labels", None)
    if valid_accuracy is None or labels is None or len(labels) == 0:
        return None
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    return chance_verdict(float(valid_accuracy), values, data.task().num_classes)


def suggested_budget_seconds(total_seconds: float) -> int:
    """The budget to suggest after a run at chance: twice the run's total (search + final), rounded
    up to whole minutes, at least ``MIN_SUGGESTED_MINUTES``. A rule of thumb, meant to be replaced
    beside the plan's own minimum (see ``at_chance_message``)."""
    minutes = math.ceil(round(2.0 * max(total_seconds, 0.0) / 60.0, 6))
    return max(MIN_SUGGESTED_MINUTES, minutes) * 60


def at_chance_message(verdict: dict[str, Any], total_seconds: float,
                      planned_minimum: float | None = None) -> str:
    """The failure message of a run whose final model is at chance, with the budget to try: the rule
    of thumb, or the budget planner's minimum for this run (``planning.apply.planned_minimum_seconds``)
    when that is larger."""
    seconds = max(suggested_budget_seconds(total_seconds), planned_minimum or 0.0)
    minutes = math.ceil(seconds / 60)
    return (f"{verdict['reason']}: the search learned nothing useful. "
            f"Try a budget of at least {minutes} minutes.")


__all__ = ["MIN_MARGIN", "at_chance_message", "chance_level", "chance_verdict", "suggested_budget_seconds",
           "validation_verdict"]
