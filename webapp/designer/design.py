"""Context of the designer page: one generated fieldset per registered space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE
from webapp.datasets.inputs import native_summary
from webapp.datasets.models import Dataset
from webapp.designer.catalog import catalogue, controller_choices, evaluator_choices, space_catalog
from webapp.designer.data import train_size
from webapp.designer.fields import option_field
from webapp.designer.forms import KIND_FIELDS, DesignForm, final_field_name
from webapp.designer.options import field_name
from webapp.designer.strategy import strategy_fieldsets
from webapp.searches.config import TASK_KIND
from webapp.searches.models import Search


def design_context(form: DesignForm, posted: Mapping[str, Any] | None, option_values: dict[str, Any],
                   option_errors: dict[str, str], datasets: list[Dataset], *,
                   strategy_values: dict[str, dict[str, Any]] | None = None,
                   strategy_errors: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """``strategy_values``/``strategy_errors``: the chosen controller's and evaluator's options (a
    search run again) and their messages, by kind (``webapp.designer.strategy``)."""
    chosen = form["space"].value()
    spaces = [_space_form(entry, posted, option_values, option_errors if entry["name"] == chosen else {})
              for entry in space_catalog()]
    for space in spaces:
        space["error"] = option_errors.get("__space__") if space["name"] == chosen else None
    return {
        "form": form,
        "spaces": spaces,
        "controllers": controller_choices(),
        "evaluators": evaluator_choices(),
        "strategies": strategy_fieldsets(posted, strategy_values or {}, strategy_errors or {},
                                         {"controller": form["controller"].value(),
                                          "evaluator": form["evaluator"].value()}),
        "datasets": datasets,
        "dataset_inputs": [(str(d.pk), summary["text"]) for d in datasets
                           if (summary := native_summary(d)) is not None],
        "designer_data": {
            "datasets": {str(d.pk): {"name": d.name, "kind": d.kind, "task_kind": TASK_KIND.get(d.kind),
                                     "train": train_size(d), "classes": d.num_classes} for d in datasets},
            "compatibility": catalogue()["compatibility"],
            "spaces": {s["name"]: {"size_text": s["size_text"], "task_kind": s["task_kind"]}
                       for s in space_catalog()},
        },
    }


def _space_form(entry: dict[str, Any], posted: Mapping[str, Any] | None, option_values: dict[str, Any],
                errors: dict[str, str]) -> dict[str, Any]:
    return {**entry, "fields": [option_field(field_name(entry["name"], spec["name"]), spec, posted,
                                             option_values, errors) for spec in entry["options"]]}


def initial_from_search(search: Search) -> tuple[dict[str, Any], dict[str, Any]]:
    """Designer fields pre-filled from an earlier search's configuration ("edit and run again")."""
    config = search.config or {}
    initial: dict[str, Any] = {
        "name": f"{search.name} (again)", "space": config.get("space"),
        "controller": config.get("controller"), "evaluator": config.get("evaluator"),
        "dataset": str(search.dataset_id or ""),
    }
    initial.update(_budget_initial({"seconds": config.get("budget_seconds"),
                                    "max_archs": config.get("max_archs"),
                                    "max_epochs": config.get("max_epochs")}))
    final = config.get("final") or {}
    initial.update(_final_initial({"seconds": final.get("budget_seconds"), "epochs": final.get("epochs")}))
    kind = _kind_of(config.get("space"))
    initial.update({final_field_name(kind, name): final[name] for name in KIND_FIELDS.get(kind, ())
                    if name in final})
    if config.get("image_size") is not None:
        initial["image_size"] = config["image_size"]
    if config.get("grayscale") is not None:
        initial["grayscale"] = "gray" if config["grayscale"] else "rgb"
    if config.get("latency_target_ms") is not None:
        initial.update(latency_target_ms=config["latency_target_ms"], latency_mode=config.get("latency_mode"))
    return initial, dict(config.get("space_options") or {})


def _kind_of(space: object) -> str:
    try:
        return space_class(str(space)).task_kind
    except KeyError:  # a space no longer registered: its image fields, as before
        return IMAGE


def strategy_values_from_search(search: Search) -> dict[str, dict[str, Any]]:
    """The controller's and evaluator's options of an earlier search, by kind, to pre-fill their fields."""
    config = search.config or {}
    return {"controller": dict(config.get("controller_options") or {}),
            "evaluator": dict(config.get("evaluator_options") or {})}


def _budget_initial(budget: dict[str, Any]) -> dict[str, Any]:
    """Stored budget ``{"seconds", "max_archs", "max_epochs"}`` -> the designer's budget fields.

    The designer holds one limit; a budget stored with several (from the API) shows the one a user
    is most likely to have meant as the limit: a count before a duration.
    """
    if budget.get("max_archs"):
        return {"budget_kind": "archs", "budget_value": budget["max_archs"]}
    if budget.get("max_epochs"):
        return {"budget_kind": "epochs", "budget_value": budget["max_epochs"]}
    if budget.get("seconds"):
        value, unit = _minutes_or_hours(budget["seconds"])
        return {"budget_kind": "time", "budget_value": value, "budget_unit": unit}
    return {}


def _final_initial(final: dict[str, Any]) -> dict[str, Any]:
    """Stored final budget ``{"seconds", "epochs"}`` -> the designer's final-training fields."""
    if final.get("epochs"):
        return {"final_value": final["epochs"], "final_unit": "epochs"}
    if final.get("seconds"):
        value, unit = _minutes_or_hours(final["seconds"])
        return {"final_value": value, "final_unit": unit}
    return {}


def _minutes_or_hours(seconds: float) -> tuple[float, str]:
    if seconds >= 3600 and seconds % 3600 == 0:
        return seconds / 3600, "h"
    return round(seconds / 60, 2), "m"
