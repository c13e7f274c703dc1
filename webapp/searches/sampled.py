"""The architectures a search sampled, scored and timed: the points of its accuracy/latency plot and its
Pareto front (issue 7 item 6), and the check that an architecture a user asks to train is one of them.

A point is one distinct architecture (from the stored ``arch_sampled`` events, which carry ``accuracy``
and ``latency_ms`` when the search had a ``latency_target_ms``): its mean accuracy over the times it
was scored and its measured latency. The browser draws the same front
(``frontend/static/js/charts/pareto.js::paretoFront``); this one lists the points a user can train.
"""

from __future__ import annotations

import json
import math
from typing import Any

from webapp.searches.events import payload_values


def arch_key(arch: dict[str, Any]) -> str:
    """A canonical text of an architecture JSON, with or without its ``"space"`` key."""
    return json.dumps({k: v for k, v in arch.items() if k != "space"}, sort_keys=True)


def sampled_points(search_id: int) -> list[dict[str, Any]]:
    """``[{architecture, accuracy (mean), latency_ms, samples}]``, one per distinct architecture."""
    points: dict[str, dict[str, Any]] = {}
    for arch, accuracy, latency in payload_values(search_id, "arch_sampled",
                                                  ("architecture", "accuracy", "latency_ms")):
        if not (isinstance(arch, dict) and finite(accuracy) and finite(latency)):
            continue  # sampled before the option existed, or a NaN score stored as null
        point = points.setdefault(arch_key(arch), {"architecture": arch, "latency_ms": float(latency),
                                                   "total": 0.0, "samples": 0})
        point["total"] += float(accuracy)
        point["samples"] += 1
    return [{"architecture": p["architecture"], "accuracy": p["total"] / p["samples"],
             "latency_ms": p["latency_ms"], "samples": p["samples"]} for p in points.values()]


def pareto_front(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The points no other point beats on both counts (more accurate and faster), fastest first; of
    equal points the first is kept."""
    ordered = sorted(points, key=lambda p: (p["latency_ms"], -p["accuracy"]))
    front: list[dict[str, Any]] = []
    for point in ordered:
        if not front or point["accuracy"] > front[-1]["accuracy"]:
            front.append(point)
    return front


def is_sampled(search_id: int, arch: dict[str, Any]) -> bool:
    """Whether ``arch`` is one of the architectures the search sampled (timed or not)."""
    wanted = arch_key(arch)
    return any(isinstance(sampled, dict) and arch_key(sampled) == wanted
               for (sampled,) in payload_values(search_id, "arch_sampled", ("architecture",)))


def finite(value: Any) -> bool:
    """A real, finite number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


__all__ = ["arch_key", "finite", "is_sampled", "pareto_front", "sampled_points"]
