"""What the designer form offers, read from the searchcore registries.

Everything here is generated from ``space_class(name).option_specs()`` and the controller and
evaluator registries, so a newly registered space shows up in the designer with no front-end change.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from typing import Any

from searchcore.controllers import list_controllers
from searchcore.evaluators import list_evaluators
from searchcore.spaces import create_space, list_spaces, space_class

logger = logging.getLogger(__name__)

# Short, user-facing descriptions; unknown names fall back to the name itself.
CONTROLLER_HELP = {
    "reinforce": "LSTM controller trained with REINFORCE and a moving-average baseline (NAS-RL, ENAS).",
    "ppo": "LSTM controller trained with proximal policy optimisation (NASNet).",
    "random": "Random search: the baseline every controller has to beat.",
}
EVALUATOR_HELP = {
    "shared": "Weight sharing (ENAS): one supernet, each architecture scored on validation batches. Fast.",
    "scratch": "Train every sampled child from scratch for a few epochs (NAS-RL, NASNet). Slow, honest.",
    "benchmark": "NAS-Bench-201 table lookup: instant, for the nb201 space only.",
}
BENCHMARK_SPACES = ("nb201",)


def format_size(n: int) -> str:
    """``130000000000`` -> ``"1.3 × 10^11"``; small numbers are written out with separators."""
    if n < 1_000_000:
        return f"{n:,}"
    exponent = int(math.floor(math.log10(n)))
    mantissa = n / 10**exponent
    if round(mantissa, 1) >= 10:  # 9.96 rounds up to 10.0
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.1f} × 10^{exponent}"


@lru_cache(maxsize=1)
def space_catalog() -> tuple[dict[str, Any], ...]:
    """One entry per registered space: name, description, option specs and the default size."""
    entries = []
    for name in list_spaces():
        cls = space_class(name)
        specs = [s.to_dict() for s in cls.option_specs()]
        try:
            described = create_space(name).describe()
            size, size_log10 = int(described["size"]), described["size_log10"]
        except Exception:  # a space that cannot build with defaults still gets a form
            logger.exception("space %s failed to describe itself with default options", name)
            size, size_log10 = 0, 0.0
        entries.append({
            "name": name,
            "description": getattr(cls, "description", "") or "",
            "options": specs,
            "size": str(size),
            "size_text": format_size(size) if size else "unknown",
            "size_log10": size_log10,
            "benchmark": name in BENCHMARK_SPACES,
        })
    return tuple(entries)


def space_entry(name: str) -> dict[str, Any] | None:
    return next((s for s in space_catalog() if s["name"] == name), None)


def controller_choices() -> list[tuple[str, str]]:
    return [(n, CONTROLLER_HELP.get(n, n)) for n in list_controllers()]


def evaluator_choices() -> list[tuple[str, str]]:
    return [(n, EVALUATOR_HELP.get(n, n)) for n in list_evaluators()]


def compatibility_error(space: str, evaluator: str) -> str | None:
    """The one cross-field rule the designer checks before the server does."""
    if evaluator == "benchmark" and space not in BENCHMARK_SPACES:
        return "The benchmark evaluator is a NAS-Bench-201 table lookup: choose the nb201 space."
    return None
