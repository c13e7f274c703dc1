"""Context of the designer page: one generated fieldset per registered space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.datasets.inputs import native_summary
from webapp.datasets.models import Dataset
from webapp.designer.catalog import catalogue, controller_choices, evaluator_choices, space_catalog
from webapp.designer.data import train_size
from webapp.designer.forms import FINAL_FIELDS, DesignForm
from webapp.designer.options import field_name
from webapp.searches.models import Search


def design_context(form: DesignForm, posted: Mapping[str, Any] | None, option_values: dict[str, Any],
                   option_errors: dict[str, str], datasets: list[Dataset]) -> dict[str, Any]:
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
        "datasets": datasets,
        "dataset_inputs": [(str(d.pk), summary["text"]) for d in datasets
                           if (summary := native_summary(d)) is not None],
        "designer_data": {
            "datasets": {str(d.pk): {"name": d.name, "kind": d.kind, "train": train_size(d),
                                     "classes": d.num_classes} for d in datasets},
            "compatibility": catalogue()["compatibility"],
            "spaces": {s["name"]: {"size_text": s["size_text"]} for s in space_catalog()},
        },
    }


def _space_form(entry: dict[str, Any], posted: Mapping[str, Any] | None, option_values: dict[str, Any],
                errors: dict[str, str]) -> dict[str, Any]:
    return {**entry, "fields": [_field(entry["name"], spec, posted, option_values, errors)
                                for spec in entry["options"]]}


def _field(space: str, spec: dict[str, Any], posted: Mapping[str, Any] | None,
           option_values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    key = field_name(space, spec["name"])
    value = _value(spec, key, posted, option_values)
    field = {
        "name": spec["name"], "key": key, "type": spec["type"], "label": spec["name"].replace("_", " "),
        "help": spec.get("help") or "", "min": spec.get("minimum"), "max": spec.get("maximum"),
        "value": value, "error": errors.get(spec["name"]), "default": spec["default"],
        "step": "1" if spec["type"] == "int" else "any",
    }
    if spec["type"] in ("choice", "multichoice"):
        selected = value if isinstance(value, (list, tuple)) else [value]
        field["choices"] = [{"value": c, "checked": c in selected} for c in spec.get("choices") or []]
    return field


def _value(spec: dict[str, Any], key: str, posted: Mapping[str, Any] | None,
           option_values: dict[str, Any]) -> Any:
    if posted is not None and (key in posted or spec["type"] in ("multichoice", "bool")):
        if spec["type"] == "multichoice":
            return posted.getlist(key) if hasattr(posted, "getlist") else posted.get(key, [])
        if spec["type"] == "bool":
            return key in posted
        return posted.get(key)
    value = option_values.get(spec["name"], spec["default"])
    return list(value) if isinstance(value, tuple) else value


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
    initial.update({f"final_{name}": final[name] for name in FINAL_FIELDS if name in final})
    if config.get("image_size") is not None:
        initial["image_size"] = config["image_size"]
    if config.get("grayscale") is not None:
        initial["grayscale"] = "gray" if config["grayscale"] else "rgb"
    if config.get("latency_target_ms") is not None:
        initial.update(latency_target_ms=config["latency_target_ms"], latency_mode=config.get("latency_mode"))
    return initial, dict(config.get("space_options") or {})


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
