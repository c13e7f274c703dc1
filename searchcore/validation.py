"""One check of a whole search configuration, as JSON, before anything is built.

``validate_search`` takes the engine's configuration dictionary (``SearchConfig``'s fields without
``data`` and ``device``, which whoever runs the search supplies, plus a ``final`` section of
final-training settings) and returns the canonical dictionary and ``{field: [messages]}``.
Options are checked against the declared schemas of the space, controller and evaluator and the
combination against ``searchcore.compat.run_errors``; no network, controller or dataset is constructed, so a
request with ``lstm_size=5000`` costs microseconds, not an LSTM. The web app stores the canonical
dictionary as it is and the worker hands it to ``SearchConfig.from_dict``.
"""

from __future__ import annotations

from typing import Any

from searchcore import controllers, evaluators
from searchcore.compat import run_errors
from searchcore.config import CONTROLLER_SCHEDULES, LATENCY_MODES, SearchConfig
from searchcore.schema import Option, Schema
from searchcore.spaces import create_space, space_class
from searchcore.spaces.base import IMAGE
from searchcore.training.settings import FINAL_SCHEMA, final_errors

MAX_SEARCH_SECONDS = 12 * 3600
MAX_SEARCH_EPOCHS = 10_000
MAX_ARCHS = 10**12  # besides the space's own size
BUDGET_FIELDS = ("budget_seconds", "max_archs", "max_epochs")
_DEFAULTS = SearchConfig.__dataclass_fields__

SEARCH_SCHEMA = Schema("search", (
    Option("budget_seconds", "float", None, "wall clock of the search phase (seconds)", 1,
           MAX_SEARCH_SECONDS, nullable=True),
    Option("max_archs", "int", None, "architectures evaluated / controller samples", 1, MAX_ARCHS,
           nullable=True),
    Option("max_epochs", "int", None, "search epochs", 1, MAX_SEARCH_EPOCHS, nullable=True),
    Option("seed", "int", _DEFAULTS["seed"].default, "random seed", 0, 2**31 - 1),
    Option("image_size", "int", None, "image side in pixels (empty: the dataset's own, up to 64, else 32)",
           8, 512, nullable=True),
    Option("grayscale", "bool", None, "one channel (empty: when every image of the dataset is grayscale)",
           nullable=True),
    Option("batch_size", "int", None, "search batch size (empty: planned from the budget)", 1, 4096,
           nullable=True),
    Option("plan", "bool", _DEFAULTS["plan"].default,
           "choose the search proxy's size and batch from step costs measured at the start"),
    Option("controller_steps_per_epoch", "int", _DEFAULTS["controller_steps_per_epoch"].default,
           "controller updates per search epoch", 1, 10_000),
    Option("derive_samples", "int", _DEFAULTS["derive_samples"].default,
           "samples scored to derive the final architecture", 1, 1000),
    Option("allow_degenerate", "bool", _DEFAULTS["allow_degenerate"].default,
           "derive may return a degenerate architecture (e.g. only parameter-free operations)"),
    Option("controller_schedule", "choice", _DEFAULTS["controller_schedule"].default,
           "when controller steps run: spread over the epoch's training, or after it (ENAS)",
           choices=CONTROLLER_SCHEDULES),
    Option("archs_per_step", "int", None, "architectures per controller update (empty: the evaluator's)",
           1, 1024, nullable=True),
    Option("latency_target_ms", "float", None, "latency target in ms per image of the standalone child "
           "on the search's device (empty: the reward is the accuracy alone)", 0.01, 60_000, nullable=True),
    Option("latency_weight", "float", _DEFAULTS["latency_weight"].default,
           "exponent w of reward = accuracy × (latency / target)^w in the soft mode", -1.0, 0.0),
    Option("latency_mode", "choice", _DEFAULTS["latency_mode"].default,
           "soft: w always (MnasNet -0.07); hard: no penalty within the target, w = -1 beyond it",
           choices=LATENCY_MODES),
))
STRATEGY_FIELDS = ("space", "space_options", "controller", "controller_options", "evaluator",
                   "evaluator_options", "final")
STRATEGY_DEFAULTS = {"controller": "reinforce", "evaluator": "shared"}
Errors = dict[str, list[str]]


def validate_search(data: Any, *, dataset_kind: str | None = None) -> tuple[dict[str, Any], Errors]:
    """``(canonical config, {})`` or ``({}, field -> messages)``; nothing is built to decide."""
    if not isinstance(data, dict):
        return {}, {"config": ["must be an object"]}
    errors: Errors = {}
    for key in sorted(set(data) - set(STRATEGY_FIELDS) - set(SEARCH_SCHEMA.names()), key=str):
        errors[str(key)[:60]] = ["unknown setting"]
    names = _names(data, errors)
    plain = {k: v for k, v in data.items() if k in SEARCH_SCHEMA.names()}
    errors.update(SEARCH_SCHEMA.errors(plain))
    config: dict[str, Any] = {**(names or {})}
    if names is not None:
        combination = run_errors(names["space"], names["evaluator"], names["controller"],
                                 dataset_kind=dataset_kind)
        if not set(combination) & {"space", "controller", "evaluator"}:  # the names are known
            config.update(_options(data, names, errors))
            _name_the_archs_cap(data.get("max_archs"), config, errors)
        errors.update(combination)
    final, final_problems = final_errors(data.get("final", {}), _task_kind(names, dataset_kind))
    for name, messages in final_problems.items():
        errors.setdefault("final", []).extend(f"{name}: {m}" for m in messages)
    if errors:
        return {}, errors
    config.update(SEARCH_SCHEMA.parse(plain))
    config["final"] = final
    _check_budget(config, errors)
    return ({}, errors) if errors else (config, {})


def _task_kind(names: dict[str, str] | None, dataset_kind: str | None) -> str:
    """The kind whose final-training settings apply: the space's, else the dataset's, else image."""
    try:
        return space_class(names["space"]).task_kind if names else dataset_kind or IMAGE
    except (KeyError, ValueError):  # an unknown space is reported on its own
        return dataset_kind or IMAGE


def _names(data: dict[str, Any], errors: Errors) -> dict[str, str] | None:
    names: dict[str, str] = {}
    for field in ("space", "controller", "evaluator"):
        value = data.get(field, STRATEGY_DEFAULTS.get(field))
        if not isinstance(value, str) or not value:
            errors[field] = ["required" if value in (None, "") else "must be a name"]
        else:
            names[field] = value
    return names if len(names) == 3 else None


def _options(data: dict[str, Any], names: dict[str, str], errors: Errors) -> dict[str, Any]:
    """The three option dicts as given (canonical JSON values); problems under ``<kind>_options``."""
    out: dict[str, Any] = {}
    for kind in ("space", "controller", "evaluator"):
        field = f"{kind}_options"
        values = data.get(field, {})
        problems = _option_errors(kind, names[kind], values)
        if problems:
            errors[field] = [f"{name}: {m}" if name != "options" else m
                             for name, messages in problems.items() for m in messages]
        else:
            out[field] = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    return out


def _option_errors(kind: str, name: str, values: Any) -> Errors:
    if not isinstance(values, dict):
        return {"options": ["must be an object of option names and values"]}
    if kind == "space":
        problems = space_class(name).schema.errors(values)
        if not problems:
            try:  # cross-option rules of the options dataclass (cheap: no module is built)
                space_class(name).Options(**values)
            except (ValueError, TypeError) as exc:
                problems = {"options": [str(exc)]}
        return problems
    if kind == "controller":
        return controllers.controller_schema(name).errors(values)
    return evaluators.evaluator_schema(name).errors(values)


def _check_budget(config: dict[str, Any], errors: Errors) -> None:
    if all(config[k] is None for k in BUDGET_FIELDS):
        errors["budget_seconds"] = ["give a budget: seconds, max_archs or max_epochs"]
        return
    if config["max_archs"] is not None:
        size = create_space(config["space"], **config["space_options"]).size()
        if config["max_archs"] > size:
            errors["max_archs"] = [_archs_cap_message(size)]


def _name_the_archs_cap(value: Any, config: dict[str, Any], errors: Errors) -> None:
    """A ``max_archs`` past ``MAX_ARCHS`` (``1e15`` on nb201) is told the space's own cap, when smaller."""
    too_big = isinstance(value, (int, float)) and not isinstance(value, bool) and value > MAX_ARCHS
    if too_big and "max_archs" in errors and "space_options" in config:
        size = create_space(config["space"], **config["space_options"]).size()
        if size < MAX_ARCHS:
            errors["max_archs"] = [_archs_cap_message(size)]


def _archs_cap_message(size: int) -> str:
    return f"must be at most {size}, the number of architectures in this space"


def search_config(stored: dict[str, Any], *, data: str, device: str) -> SearchConfig:
    """The stored canonical config as ``SearchConfig`` (its ``final`` section is for final training)."""
    return SearchConfig.from_dict({k: v for k, v in stored.items() if k != "final"} | {"data": data,
                                                                                         "device": device})


__all__ = ["FINAL_SCHEMA", "SEARCH_SCHEMA", "search_config", "validate_search"]
