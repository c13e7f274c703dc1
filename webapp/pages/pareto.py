"""The results page's accuracy-versus-latency card of a search with a latency target (issue 7 item 6).

One point per distinct sampled architecture (``webapp.searches.sampled``). The browser draws the
points and their Pareto front (``frontend/static/js/charts/pareto.js``); the page lists the front's
points, each of which can be trained from scratch and downloaded (a run of the transfer kind on the
search's own dataset: ``webapp.searches.transfer``'s ``architecture`` field). The derived architecture
is the last ``best`` event's.
"""

from __future__ import annotations

import json
from typing import Any

from webapp.searches.events import latest_of_type
from webapp.searches.models import Search
from webapp.searches.sampled import finite, pareto_front, sampled_points

MAX_POINTS = 3000  # distinct architectures sent to the page (the most accurate; see ``pareto_data``)


def pareto_data(search: Search) -> dict[str, Any] | None:
    """The card's data, or ``None`` when the search had no latency target (the card is not shown)."""
    config = search.config or {}
    if config.get("latency_target_ms") is None:
        return None
    points = sampled_points(search.pk)
    kept = sorted(points, key=lambda p: -p["accuracy"])[:MAX_POINTS]
    return {
        "target_ms": config["latency_target_ms"],
        "mode": config.get("latency_mode", "soft"),
        "weight": config.get("latency_weight"),
        "points": sorted(kept, key=lambda p: p["latency_ms"]),
        "front": [{**point, "architecture_json": json.dumps(point["architecture"], sort_keys=True)}
                  for point in pareto_front(points)],
        "left_out": len(points) - len(kept),
        "derived": _derived(search.pk),
    }


def _derived(search_id: int) -> dict[str, Any] | None:
    event = latest_of_type(search_id, "best")
    payload = event.payload if event is not None else {}
    measured = finite(payload.get("accuracy")) and finite(payload.get("latency_ms"))
    if not payload.get("derived") or not measured:
        return None
    return {"architecture": payload.get("architecture"), "accuracy": float(payload["accuracy"]),
            "latency_ms": float(payload["latency_ms"]), "reward": payload.get("reward")}
