"""The one catalogue of what a search can be made of, read from the searchcore registries.

Every space (its ``describe()`` at default options, option specs, size and task kind), controller
and evaluator (name and one-line help from the registered class), and the compatibility table of
``searchcore.compat``. The designer page embeds it and ``/api/spaces/`` serialises it, so a newly
registered class shows up in both with no front-end change and no list kept here.
"""

from __future__ import annotations

import inspect
import logging
import math
from functools import lru_cache
from typing import Any

import searchcore.controllers as controllers
from searchcore.compat import compatibility_table
from searchcore.evaluators import evaluator_class, list_evaluators
from searchcore.spaces import create_space, list_spaces, space_class

logger = logging.getLogger(__name__)


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
def catalogue() -> dict[str, Any]:
    """``{"spaces": [...], "controllers": [...], "evaluators": [...], "compatibility": {...}}``: JSON."""
    return {
        "spaces": [_space(name) for name in list_spaces()],
        "controllers": [{"name": n, "help": summary(controllers.controller_class(n)) or n}
                        for n in controllers.list_controllers()],
        "evaluators": [{"name": n, "help": summary(evaluator_class(n)) or n} for n in list_evaluators()],
        "compatibility": compatibility_table(),
    }


def _space(name: str) -> dict[str, Any]:
    cls = space_class(name)
    specs = [s.to_dict() for s in cls.option_specs()]
    try:
        entry = create_space(name).describe()
    except Exception:  # a space that cannot build with defaults still gets a form
        logger.exception("space %s failed to describe itself with default options", name)
        entry = {"name": name, "description": getattr(cls, "description", "") or "", "decisions": [],
                 "size": "0", "size_log10": 0.0}
    size = int(entry["size"])
    entry.pop("options", None)  # the default values live in the specs
    return {**entry, "options": specs, "option_specs": specs,
            "size_text": format_size(size) if size else "unknown",
            "task_kind": cls.task_kind, "has_supernet": cls.has_supernet}


def summary(cls: type) -> str:
    """The class's ``summary`` ClassVar, else the first line of its docstring."""
    if not inspect.isclass(cls):  # a bare factory function: its docstring is about calling it
        return ""
    text = getattr(cls, "summary", "") or inspect.getdoc(cls) or ""
    return text.strip().splitlines()[0] if text.strip() else ""


def space_catalog() -> list[dict[str, Any]]:
    return catalogue()["spaces"]


def space_entry(name: str) -> dict[str, Any] | None:
    return next((s for s in space_catalog() if s["name"] == name), None)


def controller_choices() -> list[tuple[str, str]]:
    return [(c["name"], c["help"]) for c in catalogue()["controllers"]]


def evaluator_choices() -> list[tuple[str, str]]:
    return [(e["name"], e["help"]) for e in catalogue()["evaluators"]]
