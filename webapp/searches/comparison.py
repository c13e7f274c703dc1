"""A search against its controls: one row per run and one plain sentence saying which won.

The winner is the run with the highest test accuracy (the final model's, on the held-out test
images); parameters and CPU latency per image come from the same metrics (``training.footprint``).
The sentence says it plainly, NAS losing included, and names the runs that have not finished yet
or ended without a model. The results page, the comparison page and the JSON API all show this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.searches.controls import LABELS, ROLES
from webapp.searches.models import Search, TrainedModel


@dataclass(frozen=True)
class Contender:
    role: str  # "" (the search), "random", "baseline"
    search: Search | None  # None: this control was never made
    metrics: dict[str, Any]

    @property
    def label(self) -> str:
        return LABELS[self.role]

    @property
    def test_accuracy(self) -> float | None:
        value = self.metrics.get("test_accuracy")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def waiting(self) -> bool:
        return self.search is not None and self.search.is_active and self.test_accuracy is None

    def to_dict(self) -> dict[str, Any]:
        s = self.search
        return {"role": self.role or "nas", "label": self.label, "id": s.pk if s else None,
                "name": s.name if s else None, "status": s.status if s else None,
                "test_accuracy": self.test_accuracy, "params": self.metrics.get("params"),
                "latency_ms": self.metrics.get("latency_ms")}


def main_search(search: Search) -> Search:
    """The search a comparison is about: itself, or the one a control belongs to."""
    return search.control_of if search.role and search.control_of is not None else search


def contenders(search: Search) -> list[Contender]:
    """The search and its two controls, in that order (a missing control has ``search=None``)."""
    main = main_search(search)
    by_role = {c.role: c for c in main.controls.all()}
    runs = [main, *(by_role.get(role) for role in ROLES)]
    models = {m.search_id: m.metrics or {} for m in TrainedModel.objects.filter(
        search__in=[r for r in runs if r is not None])}
    return [Contender(role, run, models.get(run.pk, {}) if run else {})
            for role, run in zip(("", *ROLES), runs, strict=True)]


def comparison(search: Search) -> dict[str, Any]:
    """JSON: ``{search, has_controls, decided, winner, sentence, runs}``; ``winner`` is a role
    (``"nas"``, ``"random"``, ``"baseline"``) once decided, ``None`` before or on a tie."""
    entries = contenders(search)
    has_controls = any(e.search is not None for e in entries[1:])
    scored = [e for e in entries if e.test_accuracy is not None]
    nas_scored = entries[0].test_accuracy is not None
    decided = has_controls and nas_scored and len(scored) > 1 and not any(e.waiting for e in entries)
    best = max(scored, key=lambda e: e.test_accuracy or 0.0) if scored else None
    tie = best is not None and sum(e.test_accuracy == best.test_accuracy for e in scored) > 1
    return {"search": main_search(search).pk, "has_controls": has_controls, "decided": decided,
            "winner": (best.role or "nas") if decided and best and not tie else None,
            "sentence": sentence(entries) if has_controls else "No controls have run for this search.",
            "runs": [e.to_dict() for e in entries if e.search is not None]}


def sentence(entries: list[Contender]) -> str:
    """Which won, by how many points; or who leads so far, and who has not finished."""
    nas, controls = entries[0], [e for e in entries[1:] if e.search is not None]
    rivals = [e for e in controls if e.test_accuracy is not None]
    final = not any(e.waiting for e in entries)
    parts = []
    if nas.test_accuracy is not None and rivals:
        parts.append(_race(nas, rivals, final))
    else:
        parts += [f"The {e.label} reached {_pct(e.test_accuracy)} test accuracy." for e in (nas, *rivals)
                  if e.test_accuracy is not None]
    for e in (nas, *controls):
        if e.waiting:
            parts.append(f"The {e.label} has not finished yet ({e.search.status}).")
        elif e.test_accuracy is None:
            parts.append(f"The {e.label} {e.search.status} without a model.")
    return " ".join(parts)


def _race(nas: Contender, rivals: list[Contender], final: bool) -> str:
    ranked = sorted(rivals, key=lambda e: -(e.test_accuracy or 0.0))
    best, acc = ranked[0], nas.test_accuracy or 0.0
    top = best.test_accuracy or 0.0
    so_far = "" if final else "So far "
    if acc > top:
        margins = " and ".join(f"{_points(acc - (e.test_accuracy or 0.0))} above the {e.label} "
                               f"({_pct(e.test_accuracy)})" for e in ranked)
        verb = "won" if final else "leads"
        return f"{so_far}NAS {verb} with {_pct(acc)} test accuracy, {margins}."
    if acc == top:
        verb = "tied with" if final else "is level with"
        return f"{so_far}NAS {verb} the {best.label} at {_pct(acc)} test accuracy."
    others = "".join(f"; the {e.label} reached {_pct(e.test_accuracy)}" for e in ranked[1:])
    verb = "lost" if final else "trails"
    lead = "won" if final else "leads"
    return (f"{so_far}NAS {verb}: the {best.label} {lead} with {_pct(top)} test accuracy, "
            f"{_points(top - acc)} above NAS ({_pct(acc)}){others}.")


def _pct(value: float | None) -> str:
    return f"{100 * (value or 0.0):.1f} %"


def _points(diff: float) -> str:
    points = 100 * diff
    return f"{points:.1f} point{'' if round(points, 1) == 1.0 else 's'}"


__all__ = ["Contender", "comparison", "contenders", "main_search", "sentence"]
