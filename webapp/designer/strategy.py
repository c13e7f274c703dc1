"""Controller and evaluator options in the designer, generated from each registered class's schema.

Every controller and evaluator gets a fieldset (shown when it is the one chosen); its fields are
named ``ctl-<controller>-<option>`` and ``ev-<evaluator>-<option>``. Only the options a user set to
something other than the schema's default are sent as ``controller_options``/``evaluator_options``:
an evaluator may suggest other controller settings (the benchmark evaluator's tuned REINFORCE), and
a value the user did not touch must not override that suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from searchcore.controllers import controller_schema, list_controllers
from searchcore.evaluators import evaluator_schema, list_evaluators
from webapp.designer.fields import option_field
from webapp.designer.options import MultiValue, parse_option

PREFIX = {"controller": "ctl", "evaluator": "ev"}
CONFIG_KEY = {"controller": "controller_options", "evaluator": "evaluator_options"}


def strategy_key(kind: str, name: str, option: str) -> str:
    """The form field name of ``option`` of controller/evaluator ``name``."""
    return f"{PREFIX[kind]}-{name}-{option}"


def strategy_specs(kind: str, name: str) -> list[dict[str, Any]]:
    schema = controller_schema(name) if kind == "controller" else evaluator_schema(name)
    return schema.specs()


def strategy_fieldsets(posted: Mapping[str, Any] | None, stored: dict[str, dict[str, Any]],
                       errors: dict[str, dict[str, str]],
                       chosen: dict[str, str | None]) -> list[dict[str, Any]]:
    """One fieldset per controller and evaluator (``kind``, ``name``, ``fields``, ``error``).
    ``stored``: the options of a search run again, by kind; ``errors``: option -> message for the
    chosen ones (``"__all__"``: a message about their options as a whole)."""
    names = {"controller": list_controllers(), "evaluator": list_evaluators()}
    fieldsets = []
    for kind, listed in names.items():
        for name in listed:
            mine = name == chosen.get(kind)
            values = stored.get(kind, {}) if mine else {}
            field_errors = errors.get(kind, {}) if mine else {}
            fields = [option_field(strategy_key(kind, name, spec["name"]), spec,
                                   posted if mine else None, values, field_errors)
                      for spec in strategy_specs(kind, name)]
            if fields:
                fieldsets.append({"kind": kind, "name": name, "fields": fields,
                                  "error": field_errors.get("__all__")})
    return fieldsets


def parse_strategy_options(kind: str, name: str, data: MultiValue) -> tuple[dict[str, Any], dict[str, str]]:
    """``(options changed from their defaults, option -> message)`` of the chosen controller/evaluator."""
    options: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in strategy_specs(kind, name):
        try:
            value = parse_option(spec, data, strategy_key(kind, name, spec["name"]))
        except ValueError as exc:
            errors[spec["name"]] = str(exc)
            continue
        if value != spec["default"]:
            options[spec["name"]] = value
    return options, errors


def strategy_payload(controller: str, evaluator: str,
                     data: MultiValue) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """``({"controller_options": ..., "evaluator_options": ...} as changed, errors by kind)``."""
    payload: dict[str, Any] = {}
    errors: dict[str, dict[str, str]] = {}
    for kind, name in (("controller", controller), ("evaluator", evaluator)):
        options, problems = parse_strategy_options(kind, name, data)
        if options:
            payload[CONFIG_KEY[kind]] = options
        if problems:
            errors[kind] = problems
    return payload, errors
