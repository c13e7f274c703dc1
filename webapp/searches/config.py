"""Validating what a user asks for (designer form or ``POST /api/searches/``) into a stored config.

Everything is checked against the searchcore registries and option specs, so a bad request
fails here with a field -> messages dict instead of minutes later in the worker.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from searchcore.config import SearchConfig, parse_budget
from searchcore.controllers import create_controller, list_controllers
from searchcore.evaluators import check_evaluator_options, list_evaluators
from searchcore.spaces import create_space, list_spaces, space_class
from webapp.datasets.models import Dataset

ALLOWED_KEYS = {
    "dataset", "name", "space", "space_options", "controller", "controller_options", "evaluator",
    "evaluator_options", "budget", "final_budget", "seed", "image_size", "grayscale", "batch_size",
    "controller_steps_per_epoch", "derive_samples",
}
ADVANCED_INTS = {"seed": (0, 2**31 - 1), "image_size": (8, 512), "batch_size": (1, 4096),
                 "controller_steps_per_epoch": (1, 10_000), "derive_samples": (1, 1000)}
DEFAULT_FINAL_BUDGET = "2m"
BENCHMARK = "benchmark"


class Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def clean_search_data(owner: Any, data: Any) -> tuple[Dataset | None, str, dict[str, Any]]:
    """Return ``(dataset, name, config)`` or raise ``ValidationError({field: [messages]})``."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Send a JSON object."]})
    errors = Errors()
    for key in sorted(set(data) - ALLOWED_KEYS):
        errors.add(key, "Unknown field.")
    space, space_options = _clean_space(data, errors)
    controller = _clean_choice(data, "controller", list_controllers(), "reinforce", errors)
    evaluator = _clean_choice(data, "evaluator", list_evaluators(), "shared", errors)
    if evaluator == BENCHMARK and space and space != "nb201":
        errors.add("evaluator", "The benchmark evaluator looks architectures up in the NAS-Bench-201 "
                                "table, so it only works with the nb201 space.")
    dataset = _clean_dataset(owner, data.get("dataset"), required=evaluator != BENCHMARK, errors=errors)
    config: dict[str, Any] = {
        "space": space, "space_options": space_options, "controller": controller,
        "controller_options": _clean_dict(data, "controller_options", errors),
        "evaluator": evaluator, "evaluator_options": _clean_dict(data, "evaluator_options", errors),
        "budget": _clean_budget(data.get("budget"), errors),
        "final_budget": _clean_final_budget(data.get("final_budget", DEFAULT_FINAL_BUDGET), errors),
    }
    config.update(_clean_advanced(data, errors))
    if not errors:
        _check_search_config(config, errors)
    name = str(data.get("name") or "").strip() or f"{space} / {controller}"
    if len(name) > 200:
        errors.add("name", "At most 200 characters.")
    if errors:
        raise ValidationError(dict(errors))
    return dataset, name, config


def _clean_choice(data: dict, field: str, known: list[str], default: str, errors: Errors) -> str:
    value = data.get(field) or default
    if value not in known:
        errors.add(field, f"Unknown {field} {value!r}; choose one of {', '.join(known)}.")
    return str(value)


def _clean_dict(data: dict, field: str, errors: Errors) -> dict[str, Any]:
    value = data.get(field) or {}
    if not isinstance(value, dict):
        errors.add(field, "Must be an object.")
        return {}
    return value


def _clean_space(data: dict, errors: Errors) -> tuple[str, dict[str, Any]]:
    space = data.get("space")
    if not space:
        errors.add("space", "This field is required.")
        return "", {}
    if space not in list_spaces():
        errors.add("space", f"Unknown space {space!r}; choose one of {', '.join(list_spaces())}.")
        return str(space), {}
    options = _clean_dict(data, "space_options", errors)
    specs = {spec.name: spec for spec in space_class(space).option_specs()}
    for name, value in options.items():
        spec = specs.get(name)
        if spec is None:
            continue  # create_space below reports unknown options with the list of known ones
        if spec.minimum is not None and isinstance(value, (int, float)) and value < spec.minimum:
            errors.add("space_options", f"{name} must be at least {spec.minimum:g}.")
        if spec.maximum is not None and isinstance(value, (int, float)) and value > spec.maximum:
            errors.add("space_options", f"{name} must be at most {spec.maximum:g}.")
    try:
        create_space(space, **options)
    except (ValueError, TypeError) as exc:
        errors.add("space_options", str(exc))
    return str(space), options


def _clean_dataset(owner: Any, value: Any, *, required: bool, errors: Errors) -> Dataset | None:
    if value in (None, ""):
        if required:
            errors.add("dataset", "Choose a dataset.")
        return None
    try:
        dataset = Dataset.objects.for_owner(owner).get(pk=int(value))
    except (Dataset.DoesNotExist, TypeError, ValueError):
        errors.add("dataset", "No such dataset.")
        return None
    if dataset.status == Dataset.VALIDATING:
        errors.add("dataset", "The dataset is still being validated; try again in a moment.")
    elif dataset.status == Dataset.FAILED:
        errors.add("dataset", f"The dataset failed validation: {dataset.error}")
    if dataset.kind != Dataset.IMAGE:  # every registered space classifies images (RNN spaces: later)
        errors.add("dataset", "The search spaces here need an image dataset; this one is a text corpus.")
    return dataset


def _seconds(value: Any, field: str, errors: Errors) -> float | None:
    try:
        seconds = parse_budget(value)
    except (ValueError, TypeError):
        errors.add(field, f"{value!r} is not a duration like 90s, 20m or 2h.")
        return None
    if not math.isfinite(seconds) or seconds > settings.SEARCH_MAX_BUDGET_SECONDS:
        errors.add(field, f"At most {settings.SEARCH_MAX_BUDGET_SECONDS // 3600} hours.")
        return None
    return seconds


def _count(value: Any, field: str, key: str, errors: Errors) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add(field, f"{key} must be a whole number of at least 1.")
        return None
    return value


def _clean_budget(value: Any, errors: Errors) -> dict[str, Any]:
    if value in (None, "", {}):
        errors.add("budget", "Give a budget: a duration like 20m, or max_archs / max_epochs.")
        return {}
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {"seconds": _seconds(value, "budget", errors), "max_archs": None, "max_epochs": None}
    if not isinstance(value, dict):
        errors.add("budget", "Must be a duration like 20m or an object.")
        return {}
    for key in sorted(set(value) - {"seconds", "max_archs", "max_epochs"}):
        errors.add("budget", f"Unknown budget key {key!r}.")
    seconds = value.get("seconds")
    return {
        "seconds": None if seconds in (None, "") else _seconds(seconds, "budget", errors),
        "max_archs": _count(value.get("max_archs"), "budget", "max_archs", errors),
        "max_epochs": _count(value.get("max_epochs"), "budget", "max_epochs", errors),
    }


def _clean_final_budget(value: Any, errors: Errors) -> dict[str, Any]:
    if isinstance(value, dict):
        for key in sorted(set(value) - {"seconds", "epochs"}):
            errors.add("final_budget", f"Unknown final budget key {key!r}.")
        seconds = value.get("seconds")
        result = {"seconds": None if seconds in (None, "") else _seconds(seconds, "final_budget", errors),
                  "epochs": _count(value.get("epochs"), "final_budget", "epochs", errors)}
        if result["seconds"] is None and result["epochs"] is None and "final_budget" not in errors:
            errors.add("final_budget", "Give seconds or epochs.")
        return result
    return {"seconds": _seconds(value, "final_budget", errors), "epochs": None}


def _clean_advanced(data: dict, errors: Errors) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, (low, high) in ADVANCED_INTS.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.add(key, f"Must be a whole number from {low} to {high}.")
        else:
            cleaned[key] = value
    if "grayscale" in data:
        if not isinstance(data["grayscale"], bool):
            errors.add("grayscale", "Must be true or false.")
        else:
            cleaned["grayscale"] = data["grayscale"]
    return cleaned


def _check_search_config(config: dict[str, Any], errors: Errors) -> None:
    """Let searchcore's own config check have the last word (e.g. "give a budget")."""
    budget = config["budget"]
    if all(budget.get(k) is None for k in ("seconds", "max_archs", "max_epochs")):
        errors.add("budget", "Give a budget: a duration like 20m, or max_archs / max_epochs.")
        return
    try:
        to_search_config(config, data="-")
    except (ValueError, TypeError) as exc:
        errors.add("__all__", str(exc))
        return
    _check_strategy_options(config, errors)


def _check_strategy_options(config: dict[str, Any], errors: Errors) -> None:
    """Build the controller (a tiny LSTM) and check the evaluator's option names and types now, so
    a typo fails here with a field error rather than in the worker after queueing."""
    try:
        space = create_space(config["space"], **config["space_options"])
        create_controller(config["controller"], decisions=space.decisions(),
                          initial_nodes=space.initial_nodes, **config["controller_options"])
    except (ValueError, TypeError) as exc:
        errors.add("controller_options", str(exc))
    try:
        check_evaluator_options(config["evaluator"], config["evaluator_options"])
    except ValueError as exc:
        errors.add("evaluator_options", str(exc))


def to_search_config(config: dict[str, Any], *, data: str, device: str | None = None) -> SearchConfig:
    """The stored config as searchcore's ``SearchConfig`` (``data`` = dataset file or table path)."""
    budget = config.get("budget") or {}
    extra = {k: config[k] for k in (*ADVANCED_INTS, "grayscale") if k in config}
    return SearchConfig(
        space=config["space"], data=data, space_options=dict(config.get("space_options") or {}),
        controller=config["controller"], controller_options=dict(config.get("controller_options") or {}),
        evaluator=config["evaluator"], evaluator_options=dict(config.get("evaluator_options") or {}),
        budget_seconds=budget.get("seconds"), max_archs=budget.get("max_archs"),
        max_epochs=budget.get("max_epochs"), device=device or settings.NAS_DEVICE, **extra,
    )
