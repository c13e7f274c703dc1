"""The controls of a search: the alternatives it must beat, on the same dataset and total budget.

Design §6: NAS earns its cost only if it beats random search and the hand-designed network a user
would train instead. A search's controls are two runs of its own: ``random`` (the same settings
with the random controller) and ``baseline`` (a space without decisions of the search's task kind:
``resnet20`` for images, ``lstm`` for language; the worker trains it for the search's and final
training's time together, ``searchcore.training.fixed``). This module turns a search into the two
requests; they are validated by ``config.clean_search_data`` like any other and stored by
``services.create_controls``.
"""

from __future__ import annotations

from typing import Any

from searchcore.compat import trains_only
from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE, LANGUAGE
from webapp.searches.models import Search

RANDOM, BASELINE = "random", "baseline"
ROLES = (RANDOM, BASELINE)
BASELINE_SPACES = {IMAGE: "resnet20", LANGUAGE: "lstm"}  # task kind -> the hand-designed network
BASELINE_LABELS = {IMAGE: "ResNet-20 baseline", LANGUAGE: "LSTM baseline"}
LABELS = {"": "NAS search", RANDOM: "random control", BASELINE: BASELINE_LABELS[IMAGE]}
FLAG = "controls"  # the request field of POST /api/searches/
# the search's own child sizes and image-only knobs: the baseline has its own sizes
FINAL_SIZES = ("channels", "cells_per_stage", "layers", "hidden_size")
BASELINE_OPTIONS = ("hidden_size",)  # a language baseline as wide as the searched cell, when it was set


def task_kind(search: Search) -> str:
    """The task kind of ``search``'s space (``image`` for a space no longer known)."""
    try:
        return space_class((search.config or {}).get("space")).task_kind
    except KeyError:
        return IMAGE


def label(role: str, kind: str = IMAGE) -> str:
    """What a run of ``role`` is called for a search of ``kind``."""
    return BASELINE_LABELS.get(kind, LABELS[BASELINE]) if role == BASELINE else LABELS[role]


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
    if task_kind(search) not in BASELINE_SPACES:
        return f"The controls have no hand-designed network for {task_kind(search)} tasks yet."
    if not config.get("budget_seconds") or not (config.get("final") or {}).get("budget_seconds"):
        return "The controls run for the same time: give the search and final training time budgets."
    return None


def control_requests(search: Search) -> list[tuple[str, dict[str, Any]]]:
    """``(role, request)`` of each control, as ``clean_search_data`` takes it; ``control_problem``
    must be ``None``."""
    config = dict(search.config)
    kind = task_kind(search)
    final = dict(config.get("final") or {})
    random = {**config, "controller": RANDOM, "controller_options": {}}
    baseline_final = {**{k: v for k, v in final.items() if k not in FINAL_SIZES}, "epochs": None,
                      "init": "scratch"}
    if kind == IMAGE:
        baseline_final["aux_head"] = False
    options = config.get("space_options") or {}
    baseline = {**config, "space": BASELINE_SPACES[kind], "max_archs": None, "max_epochs": None,
                "space_options": {k: options[k] for k in BASELINE_OPTIONS if k in options},
                "final": baseline_final}
    return [(role, {**request, "dataset": search.dataset_id, "name": control_name(search.name, role, kind)})
            for role, request in ((RANDOM, random), (BASELINE, baseline))]


def control_name(name: str, role: str, kind: str = IMAGE) -> str:
    suffix = f" — {label(role, kind)}"
    return f"{name[:200 - len(suffix)]}{suffix}"


__all__ = ["BASELINE", "BASELINE_SPACES", "LABELS", "RANDOM", "ROLES", "control_name", "control_problem",
           "control_requests", "controls_flag", "label", "task_kind"]
