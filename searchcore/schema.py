"""Options declared once: name, type, default, range or choices, and help.

Every user-settable option of a space, a controller, an evaluator or final training is an
``Option`` in a ``Schema``. From that one declaration come the designer's form specs
(``Schema.specs()``), the CLI's ``KEY=VALUE`` parsing (``Schema.parse_text``), the checks of JSON
input from the API and the browser (``Schema.parse``, strict: a boolean is not a number, 1e15 is
not a whole number, NaN is not a number) and the frozen options dataclass of a space
(``Schema.make_dataclass``). Nothing is built to check options: a range check costs microseconds,
where building a controller to see whether its options are valid cost seconds and memory.

``parse`` collects every problem and raises ``OptionsError`` whose ``errors`` maps each option name
to its messages, so the web app can show them beside the fields.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TYPES = ("int", "float", "bool", "choice", "multichoice", "str")
MAX_TEXT = 200  # longest str option value


class OptionsError(ValueError):
    """Bad option values; ``errors`` maps an option name (or ``"options"``) to its messages."""

    def __init__(self, kind: str, errors: Mapping[str, Sequence[str]]) -> None:
        self.kind = kind
        self.errors = {name: list(msgs) for name, msgs in errors.items()}
        parts = [f"{name}: {'; '.join(msgs)}" for name, msgs in self.errors.items()]
        super().__init__(f"{kind} option " + ", ".join(parts) if kind else ", ".join(parts))


@dataclass(frozen=True)
class Option:
    """One option. ``minimum``/``maximum`` are inclusive; ``nullable`` lets ``None`` mean "off"."""

    name: str
    type: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name}: unknown type {self.type!r}")
        if self.type in ("int", "float") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"option {self.name}: a number option needs a minimum and a maximum")
        if self.type in ("choice", "multichoice") and not self.choices:
            raise ValueError(f"option {self.name}: a choice option needs choices")
        problem = self.problem(self.default)
        if problem:
            raise ValueError(f"option {self.name}: default {self.default!r} {problem}")

    def check(self, value: Any) -> Any:
        """The value in canonical form (lists become tuples); ``ValueError`` with a short message."""
        problem = self.problem(value)
        if problem:
            raise ValueError(problem)
        if self.type == "multichoice":
            return tuple(value)
        if self.type == "float" and value is not None:
            return float(value)
        return value

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (without the option's name), or ``None``."""
        if value is None:
            return None if self.nullable else "must be given"
        checker = getattr(self, f"_problem_{self.type}")
        return checker(value)

    def from_text(self, raw: str) -> Any:
        """A CLI value: ``5``, ``0.1``, ``true``, ``none`` or a comma-separated list."""
        text = raw.strip()
        if self.nullable and text.lower() in ("none", "null", "off"):
            return None
        if self.type == "int":
            return _int_text(text, self.name)
        if self.type == "float":
            return _float_text(text, self.name)
        if self.type == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.name}: {raw!r} is not true or false")
        if self.type == "multichoice":
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return text

    def to_dict(self) -> dict[str, Any]:
        """The designer's field description (JSON)."""
        data = dataclasses.asdict(self)
        data["choices"] = list(self.choices)
        if isinstance(data["default"], tuple):
            data["default"] = list(data["default"])
        return data

    # -- per type ------------------------------------------------------------------
    def _problem_int(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return self._range_problem(value)

    def _problem_float(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        if isinstance(value, int) and abs(value) > 10**18:
            return self._range_problem(float("inf") if value > 0 else float("-inf"))
        if not math.isfinite(value):
            return "must be a finite number"
        return self._range_problem(value)

    def _problem_bool(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"

    def _problem_choice(self, value: Any) -> str | None:
        if not isinstance(value, str) or value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        return None

    def _problem_multichoice(self, value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            return "must be a list of names"
        if not value:
            return "must name at least one choice"
        unknown = [v for v in value if v not in self.choices]
        if unknown:
            return f"unknown {', '.join(map(repr, unknown[:5]))}; choose from {', '.join(self.choices)}"
        if len(set(value)) != len(value):
            return "names a choice twice"
        return None

    def _problem_str(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        return None if len(value) <= MAX_TEXT else f"must be at most {MAX_TEXT} characters"

    def _range_problem(self, value: float) -> str | None:
        assert self.minimum is not None and self.maximum is not None
        if value < self.minimum or value > self.maximum:
            return f"must be between {_num(self.minimum)} and {_num(self.maximum)}"
        return None


@dataclass(frozen=True)
class Schema:
    """The options of one thing (``kind`` names it in messages, e.g. ``"enas-micro space"``)."""

    kind: str
    options: tuple[Option, ...] = ()

    def __post_init__(self) -> None:
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.kind}: an option is declared twice")

    def __getitem__(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def names(self) -> list[str]:
        return [o.name for o in self.options]

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def specs(self) -> list[dict[str, Any]]:
        return [o.to_dict() for o in self.options]

    def errors(self, values: Any) -> dict[str, list[str]]:
        """Every problem of ``values`` (a mapping of given options), by option name."""
        if not isinstance(values, Mapping):
            return {"options": ["must be an object of option names and values"]}
        known = {o.name: o for o in self.options}
        errors: dict[str, list[str]] = {}
        for name, value in values.items():
            option = known.get(name) if isinstance(name, str) else None
            if option is None:
                listed = ", ".join(known) or "none"
                errors[str(name)[:60]] = [f"unknown option; known: {listed}"]
                continue
            problem = option.problem(value)
            if problem:
                errors[name] = [problem]
        return errors

    def parse(self, values: Any, *, fill_defaults: bool = True) -> dict[str, Any]:
        """Checked, canonical values (with the defaults of options not given, unless told not to)."""
        errors = self.errors(values)
        if errors:
            raise OptionsError(self.kind, errors)
        known = {o.name: o for o in self.options}
        given = {name: known[name].check(value) for name, value in values.items()}
        return {**self.defaults(), **given} if fill_defaults else given

    def parse_text(self, items: Iterable[str]) -> dict[str, Any]:
        """CLI ``KEY=VALUE`` items -> checked values of the options given (no defaults)."""
        values: dict[str, Any] = {}
        for item in items:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise OptionsError(self.kind, {"options": [f"{item!r} is not KEY=VALUE"]})
            try:
                option = self[key]
            except KeyError:
                known = ", ".join(self.names())
                raise OptionsError(self.kind, {key: [f"unknown option; known: {known}"]}) from None
            try:
                values[key] = option.from_text(raw)
            except ValueError as exc:
                message = str(exc).removeprefix(f"{key}: ")  # OptionsError names the option
                raise OptionsError(self.kind, {key: [message]}) from None
        return self.parse(values, fill_defaults=False)

    def make_dataclass(self, class_name: str, bases: tuple[type, ...] = ()) -> type:
        """A frozen dataclass with one field per option; construction checks through the schema."""
        schema = self

        def post_init(obj: Any) -> None:
            values = {o.name: getattr(obj, o.name) for o in schema.options}
            for name, value in schema.parse(values).items():
                object.__setattr__(obj, name, value)

        fields = [(o.name, Any, dataclasses.field(default=o.default)) for o in self.options]
        return dataclasses.make_dataclass(class_name, fields, bases=bases, frozen=True,
                                          namespace={"__post_init__": post_init, "schema": schema})


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _int_text(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number") from None


def _float_text(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
