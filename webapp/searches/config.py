"""A user's request (designer form or ``POST /api/searches/``) -> the config a search stores.

The stored ``Search.config`` is searchcore's own configuration dictionary (``SearchConfig``'s
fields without ``data`` and ``device``, plus a ``final`` section of final-training settings),
checked once by ``searchcore.validation.validate_search``. This module only resolves the dataset
(ownership, status, kind), converts the API's friendlier budget shapes (``"20m"``, ``{"seconds":
..., "max_archs": ...}``, ``final_budget``) once into engine fields, and maps engine field names to
the request's field names in the errors.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from searchcore.compat import needs_dataset
from searchcore.config import parse_budget
from searchcore.evaluators import list_evaluators
from searchcore.validation import search_config, validate_search
from webapp.datasets.models import Dataset

REQUEST_ONLY = {"dataset", "name", "budget", "final_budget"}
BUDGET_KEYS = {"seconds": "budget_seconds", "max_archs": "max_archs", "max_epochs": "max_epochs"}
FINAL_BUDGET_KEYS = {"seconds": "budget_seconds", "epochs": "epochs"}
TASK_KIND = {Dataset.IMAGE: "image", Dataset.TEXT: "language"}  # dataset kind -> searchcore task kind
ERROR_FIELD = {"budget_seconds": "budget", "max_archs": "budget", "max_epochs": "budget"}


class Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def clean_search_data(owner: Any, data: Any) -> tuple[Dataset | None, str, dict[str, Any]]:
    """Return ``(dataset, name, config)`` or raise ``ValidationError({field: [messages]})``."""
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Send a JSON object."]})
    errors = Errors()
    engine = {k: v for k, v in data.items() if k not in REQUEST_ONLY}
    engine.update(_budget_fields(data.get("budget"), errors))
    final = _final_section(data, errors)
    if final is not None:
        engine["final"] = final
    evaluator = data.get("evaluator") or "shared"
    known = isinstance(evaluator, str) and evaluator in list_evaluators()
    dataset = _clean_dataset(owner, data.get("dataset"), required=not known or needs_dataset(evaluator),
                             errors=errors)
    kind = TASK_KIND.get(dataset.kind) if dataset is not None else None
    config, problems = validate_search(engine, dataset_kind=kind)
    for field, messages in problems.items():
        for message in messages:
            errors.add(ERROR_FIELD.get(field, field), _sentence(message))
    name = "" if data.get("name") is None else data["name"]
    if not isinstance(name, str):
        errors.add("name", "Must be text.")
        name = ""
    name = name.strip() or f"{data.get('space')} / {data.get('controller') or 'reinforce'}"
    if len(name) > 200:
        errors.add("name", "At most 200 characters.")
    if errors:
        raise ValidationError(dict(errors))
    return dataset, name, config


def _sentence(message: str) -> str:
    return message if message.endswith(".") else f"{message}."


def _seconds(value: Any, field: str, errors: Errors) -> Any:
    """``"20m"`` -> 1200.0; numbers pass through for the engine's strict check (``True`` is refused)."""
    if isinstance(value, str):
        try:
            value = parse_budget(value)
        except ValueError:
            errors.add(field, f"{value!r} is not a duration like 90s, 20m or 2h.")
            return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and value > settings.SEARCH_MAX_BUDGET_SECONDS:
        errors.add(field, f"At most {settings.SEARCH_MAX_BUDGET_SECONDS // 3600} hours.")
        return None
    return value


def _budget_fields(value: Any, errors: Errors) -> dict[str, Any]:
    """The API's ``budget`` (a duration or ``{seconds, max_archs, max_epochs}``) as engine fields."""
    if value is None:
        return {}
    if value in ("", {}):
        errors.add("budget", "Give a budget: a duration like 20m, or max_archs / max_epochs.")
        return {}
    if not isinstance(value, dict):
        return {"budget_seconds": _seconds(value, "budget", errors)}
    for key in sorted(set(value) - set(BUDGET_KEYS), key=str):
        errors.add("budget", f"Unknown budget key {key!r}.")
    out = {BUDGET_KEYS[k]: v for k, v in value.items() if k in BUDGET_KEYS and v != ""}
    if "budget_seconds" in out:
        out["budget_seconds"] = _seconds(out["budget_seconds"], "budget", errors)
    return out


def _final_section(data: dict[str, Any], errors: Errors) -> Any:
    """``final`` (engine settings) merged with the API's ``final_budget`` (duration or object)."""
    final = data.get("final")
    if "final_budget" not in data:
        return final
    if final is not None and not isinstance(final, dict):
        return final  # the engine reports it
    merged = dict(final or {})
    value = data["final_budget"]
    if isinstance(value, dict):
        for key in sorted(set(value) - set(FINAL_BUDGET_KEYS), key=str):
            errors.add("final_budget", f"Unknown final budget key {key!r}.")
        given = {FINAL_BUDGET_KEYS[k]: v for k, v in value.items() if k in FINAL_BUDGET_KEYS and v != ""}
        if not any(v is not None for v in given.values()):
            errors.add("final_budget", "Give seconds or epochs.")
        merged.update({"budget_seconds": None, "epochs": None, **given})
    else:
        merged.update({"budget_seconds": value, "epochs": None})
    if merged.get("budget_seconds") is not None:
        merged["budget_seconds"] = _seconds(merged["budget_seconds"], "final_budget", errors)
    return merged


def _clean_dataset(owner: Any, value: Any, *, required: bool, errors: Errors) -> Dataset | None:
    if value in (None, ""):
        if required:
            errors.add("dataset", "Choose a dataset.")
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add("dataset", "Give the dataset's id (a whole number).")
        return None
    dataset = Dataset.objects.for_owner(owner).filter(pk=value).first()
    if dataset is None:
        errors.add("dataset", "No such dataset.")
        return None
    if dataset.status == Dataset.VALIDATING:
        errors.add("dataset", "The dataset is still being validated; try again in a moment.")
    elif dataset.status == Dataset.FAILED:
        errors.add("dataset", f"The dataset failed validation: {dataset.error}")
    return dataset


def to_search_config(config: dict[str, Any], *, data: str, device: str | None = None) -> Any:
    """The stored config as searchcore's ``SearchConfig`` (``data`` = dataset file or table path)."""
    return search_config(config, data=data, device=device or settings.NAS_DEVICE)
