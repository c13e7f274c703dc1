"""One generated option field of the designer (a space's, a controller's or an evaluator's), for the
template's ``searches/_option_field.html``: its key, type, range, help, value and error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def option_field(key: str, spec: dict[str, Any], posted: Mapping[str, Any] | None,
                 option_values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The field of option ``spec`` under form name ``key``; its value is the posted one, else the
    stored one (``option_values``, e.g. a search run again), else the default."""
    value = _value(spec, key, posted, option_values)
    field = {
        "name": spec["name"], "key": key, "type": spec["type"], "label": spec["name"].replace("_", " "),
        "help": spec.get("help") or "", "min": spec.get("minimum"), "max": spec.get("maximum"),
        "value": "" if value is None else value, "error": errors.get(spec["name"]),
        "default": spec["default"], "step": "1" if spec["type"] == "int" else "any",
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
