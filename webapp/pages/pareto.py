"""The results page's accuracy-versus-latency card of a search with a latency target (issue 7 item 6).

One point per distinct sampled architecture (from the stored ``arch_sampled`` events, which carry
``accuracy`` and ``latency_ms`` when the search had a ``latency_target_ms``): its mean accuracy
over the times it was scored, its measured latency and its architecture JSON (so a point of the
front can be trained later). The Pareto front itself is computed in the browser
(``frontend/static/js/charts/pareto.js``). The derived architecture is the last ``best`` event's.
"""

from __future__ import annotations

import json
import math
from typing import Any

from webapp.searches.events import latest_of_type, payload_values
from webapp.searches.models import Search

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
        "left_out": len(points) - len(kept),
        "derived": _derived(search.pk),
    }


def sampled_points(search_id: int) -> list[dict[str, Any]]:
    """``[{architecture, accuracy (mean), latency_ms, samples}]``, one per distinct architecture."""
    points: dict[str, dict[str, Any]] = {}
    for arch, accuracy, latency in payload_values(search_id, "arch_sampled",
                                                  ("architecture", "accuracy", "latency_ms")):
        if not (isinstance(arch, dict) and _finite(accuracy) and _finite(latency)):
            continue  # sampled before the option existed, or a NaN score stored as null
        key = json.dumps(arch, sort_keys=True)
        point = points.setdefault(key, {"architecture": arch, "latency_ms": float(latency), "total": 0.0,
                                        "samples": 0})
        point["total"] += float(accuracy)
        point["samples"] += 1
    return [{"architecture": p["architecture"], "accuracy": p["total"] / p["samples"],
             "latency_ms": p["latency_ms"], "samples": p["samples"]} for p in points.values()]


def _derived(search_id: int) -> dict[str, Any] | None:
    event = latest_of_type(search_id, "best")
    payload = event.payload if event is not None else {}
    measured = _finite(payload.get("accuracy")) and _finite(payload.get("latency_ms"))
    if not payload.get("derived") or not measured:
        return None
    return {"architecture": payload.get("architecture"), "accuracy": float(payload["accuracy"]),
            "latency_ms": float(payload["latency_ms"]), "reward": payload.get("reward")}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
