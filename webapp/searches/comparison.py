"""A search against its controls: one row per run and one plain sentence saying which won.

The winner is the run with the best test score of its final model on the held-out test split:
the highest test accuracy for images, the lowest test perplexity for language (``METRICS``, by the
search's task kind); parameters and CPU latency per example come from the same metrics
(``training.footprint``). The sentence says it plainly, NAS losing included, and names the runs that
have not finished yet or ended without a model. The results page, the comparison page and the JSON
API all show this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from searchcore.spaces.base import IMAGE, LANGUAGE
from webapp.searches.controls import BASELINE, ROLES, label, task_kind
from webapp.searches.models import Search, TrainedModel


@dataclass(frozen=True)
class Metric:
    """How a task kind's runs are ranked and said."""

    key: str  # in ``TrainedModel.metrics``
    name: str  # "test accuracy"
    higher_is_better: bool
    show: Callable[[float], str]  # a value, in words
    margin: Callable[[float], str]  # a (positive) difference, in words
    better: str  # "above" (accuracy) or "below" (perplexity): the better side of another run


def _points(diff: float) -> str:
    points = 100 * diff
    return f"{points:.1f} point{'' if round(points, 1) == 1.0 else 's'}"


METRICS = {
    IMAGE: Metric("test_accuracy", "test accuracy", True, lambda v: f"{100 * v:.1f} %", _points, "above"),
    LANGUAGE: Metric("test_perplexity", "test perplexity", False, lambda v: f"{v:,.1f}",
                     lambda d: f"{d:,.1f}", "below"),
}


@dataclass(frozen=True)
class Contender:
    role: str  # "" (the search), "random", "baseline"
    search: Search | None  # None: this control was never made
    metrics: dict[str, Any]
    kind: str = IMAGE

    @property
    def label(self) -> str:
        return label(self.role, self.kind)

    @property
    def metric(self) -> Metric:
        return METRICS.get(self.kind, METRICS[IMAGE])

    @property
    def score(self) -> float | None:
        value = self.metrics.get(self.metric.key)
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def test_accuracy(self) -> float | None:
        value = self.metrics.get("test_accuracy")
        return float(value) if isinstance(value, (int, float)) else None

    def ranks_above(self, other: Contender) -> bool:
        """A strictly better score than ``other``'s (both scored)."""
        a, b = self.score or 0.0, other.score or 0.0
        return a > b if self.metric.higher_is_better else a < b

    @property
    def waiting(self) -> bool:
        return self.search is not None and self.search.is_active and self.score is None

    def to_dict(self) -> dict[str, Any]:
        s = self.search
        return {"role": self.role or "nas", "label": self.label, "id": s.pk if s else None,
                "name": s.name if s else None, "status": s.status if s else None,
                "test_accuracy": self.test_accuracy, "metric": self.metric.key, "score": self.score,
                "params": self.metrics.get("params"), "latency_ms": self.metrics.get("latency_ms")}


def main_search(search: Search) -> Search:
    """The search a comparison is about: itself, or the one a control belongs to."""
    return search.control_of if search.role and search.control_of is not None else search


def contenders(search: Search) -> list[Contender]:
    """The search and its two controls, in that order (a missing control has ``search=None``)."""
    main = main_search(search)
    kind = task_kind(main)
    by_role = {c.role: c for c in main.controls.all()}
    runs = [main, *(by_role.get(role) for role in ROLES)]
    models = {m.search_id: m.metrics or {} for m in TrainedModel.objects.filter(
        search__in=[r for r in runs if r is not None])}
    return [Contender(role, run, models.get(run.pk, {}) if run else {}, kind)
            for role, run in zip(("", *ROLES), runs, strict=True)]


def _ranked(entries: list[Contender]) -> list[Contender]:
    """The scored entries, best first."""
    scored = [e for e in entries if e.score is not None]
    return sorted(scored, key=lambda e: -(e.score or 0.0) if e.metric.higher_is_better else (e.score or 0.0))


def comparison(search: Search) -> dict[str, Any]:
    """JSON: ``{search, metric, baseline_label, has_controls, decided, winner, sentence, runs}``; ``winner``
    is a role
    (``"nas"``, ``"random"``, ``"baseline"``) once decided, ``None`` before or on a tie."""
    entries = contenders(search)
    has_controls = any(e.search is not None for e in entries[1:])
    scored = _ranked(entries)
    nas_scored = entries[0].score is not None
    decided = has_controls and nas_scored and len(scored) > 1 and not any(e.waiting for e in entries)
    best = scored[0] if scored else None
    tie = best is not None and sum(e.score == best.score for e in scored) > 1
    metric = entries[0].metric
    return {"search": main_search(search).pk, "metric": {"key": metric.key, "name": metric.name},
            "baseline_label": label(BASELINE, entries[0].kind),
            "has_controls": has_controls, "decided": decided,
            "winner": (best.role or "nas") if decided and best and not tie else None,
            "sentence": sentence(entries) if has_controls else "No controls have run for this search.",
            "runs": [e.to_dict() for e in entries if e.search is not None]}


def sentence(entries: list[Contender]) -> str:
    """Which won, by how much; or who leads so far, and who has not finished."""
    nas, controls = entries[0], [e for e in entries[1:] if e.search is not None]
    rivals = [e for e in controls if e.score is not None]
    final = not any(e.waiting for e in entries)
    metric = nas.metric
    parts = []
    if nas.score is not None and rivals:
        parts.append(_race(nas, rivals, final))
    else:
        parts += [f"The {e.label} reached {metric.show(e.score)} {metric.name}." for e in (nas, *rivals)
                  if e.score is not None]
    for e in (nas, *controls):
        if e.waiting:
            parts.append(f"The {e.label} has not finished yet ({e.search.status}).")
        elif e.score is None:
            parts.append(f"The {e.label} {e.search.status} without a model.")
    return " ".join(parts)


def _race(nas: Contender, rivals: list[Contender], final: bool) -> str:
    ranked = _ranked(rivals)
    best, metric = ranked[0], nas.metric
    mine, top = nas.score or 0.0, best.score or 0.0
    so_far = "" if final else "So far "
    if nas.ranks_above(best):
        margins = " and ".join(f"{metric.margin(abs(mine - (e.score or 0.0)))} {metric.better} the {e.label} "
                               f"({metric.show(e.score or 0.0)})" for e in ranked)
        verb = "won" if final else "leads"
        return f"{so_far}NAS {verb} with {metric.show(mine)} {metric.name}, {margins}."
    if mine == top:
        verb = "tied with" if final else "is level with"
        return f"{so_far}NAS {verb} the {best.label} at {metric.show(mine)} {metric.name}."
    others = "".join(f"; the {e.label} reached {metric.show(e.score or 0.0)}" for e in ranked[1:])
    verb = "lost" if final else "trails"
    lead = "won" if final else "leads"
    return (f"{so_far}NAS {verb}: the {best.label} {lead} with {metric.show(top)} {metric.name}, "
            f"{metric.margin(abs(top - mine))} {metric.better} NAS ({metric.show(mine)}){others}.")


__all__ = ["METRICS", "Contender", "Metric", "comparison", "contenders", "main_search", "sentence"]
