"""The controls of a search: the alternatives it must beat, on the same dataset and total budget.

Design §6: NAS earns its cost only if it beats random search and the hand-designed network a user
would train instead. A search's controls are two runs of its own: ``random`` (the same settings
with the random controller) and ``baseline`` (the ``resnet20`` space, which has no decisions; the
worker trains it for the search's and final training's time together,
``searchcore.training.fixed``). This module turns a search into the two requests; they are
validated by ``config.clean_search_data`` like any other and stored by ``services.create_controls``.
"""

from __future__ import annotations

from typing import Any

from searchcore.compat import trains_only
from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE
from webapp.searches.models import Search

RANDOM, BASELINE = "random", "baseline"
ROLES = (RANDOM, BASELINE)
LABELS = {"": "NAS search", RANDOM: "random control", BASELINE: "ResNet-20 baseline"}
BASELINE_SPACE = "resnet20"
FLAG = "controls"  # the request field of POST /api/searches/
FINAL_SIZES = ("channels", "cells_per_stage", "layers")  # the search's child sizes; ResNet-20 has its own


def controls_flag(data: Any) -> tuple[Any, bool, dict[str, list[str]]]:
    """``(request without "controls", wanted, errors)``: only JSON ``true``/``false`` is accepted."""
    if not isinstance(data, dict) or FLAG not in data:
        return data, False, {}
    rest = {k: v for k, v in data.items() if k != FLAG}
    value = data[FLAG]
    if not isinstance(value, bool):
        return rest, False, {FLAG: ["Must be true or false."]}
    return rest, value, {}


def control_problem(search: Search) -> str | None:
    """Why ``search`` cannot have controls, in words; ``None`` when it can."""
    config = search.config or {}
    if search.role:
        return "This run is itself a control."
    if config.get("transfer"):
        return "This run trains the architecture of another search; it has no search of its own to compare."
    if search.dataset_id is None:
        return "The controls train on a dataset; this search reads none (it scores a table)."
    if trains_only(config.get("space")):
        return "This run trains a fixed network; there is no search to compare."
    if space_class(config.get("space")).task_kind != IMAGE:
        return "The controls are image classifiers (a ResNet-20 baseline); this search's task has none yet."
    if not config.get("budget_seconds") or not (config.get("final") or {}).get("budget_seconds"):
        return "The controls run for the same time: give the search and final training time budgets."
    return None


def control_requests(search: Search) -> list[tuple[str, dict[str, Any]]]:
    """``(role, request)`` of each control, as ``clean_search_data`` takes it; ``control_problem``
    must be ``None``."""
    config = dict(search.config)
    final = dict(config.get("final") or {})
    random = {**config, "controller": RANDOM, "controller_options": {}}
    baseline_final = {**final, **dict.fromkeys(FINAL_SIZES), "epochs": None, "aux_head": False,
                      "init": "scratch"}
    baseline = {**config, "space": BASELINE_SPACE, "space_options": {}, "max_archs": None, "max_epochs": None,
                "final": baseline_final}
    return [(role, {**request, "dataset": search.dataset_id, "name": control_name(search.name, role)})
            for role, request in ((RANDOM, random), (BASELINE, baseline))]


def control_name(name: str, role: str) -> str:
    suffix = f" — {LABELS[role]}"
    return f"{name[:200 - len(suffix)]}{suffix}"


__all__ = ["BASELINE", "LABELS", "RANDOM", "ROLES", "control_name", "control_problem", "control_requests",
           "controls_flag"]
