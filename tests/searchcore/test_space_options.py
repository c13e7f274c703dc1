"""Space options, one schema per space: every registered space's declared ranges, choices and
defaults are what ``create_space``, the dataclass, the designer specs and the CLI all enforce."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from searchcore.cli.app import parse_space_options
from searchcore.schema import Option, OptionsError
from searchcore.spaces import create_space, list_spaces, space_class

SPACES = list_spaces()


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize(
    "options",
    [{"no_such_option": 1}, {"ops": ["no_such_op"]}, {"ops": []}, {"channels": 0}, {"channels": "8"}],
    ids=["unknown", "bad-op", "no-ops", "zero-channels", "text-channels"],
)
def test_bad_options_raise_value_error(name: str, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create_space(name, **options)


@pytest.mark.parametrize("name", SPACES)
def test_every_int_option_enforces_the_range_the_designer_shows(name: str) -> None:
    """The GUI's min/max (option_specs) and the space's own check are one rule."""
    for spec in space_class(name).option_specs():
        if spec.type == "int" and spec.maximum is not None:
            create_space(name, **{spec.name: int(spec.maximum)})
            with pytest.raises(ValueError):
                create_space(name, **{spec.name: int(spec.maximum) + 1})


# -- options: one schema per space ------------------------------------------------------------
def edge_cases(option: Option) -> tuple[list[Any], list[Any]]:
    """Values the schema must accept and values it must refuse, from the option's own declaration."""
    if option.type == "int":
        low, high = int(option.minimum), int(option.maximum)
        return [low, high], [low - 1, high + 1, True, float(low), str(low)]
    if option.type == "float":
        return [option.minimum, option.maximum], [option.minimum - 1, option.maximum + 1, True, "1"]
    if option.type == "multichoice":
        choices = list(option.choices)
        return ([choices[:1], choices, choices[::-1]],
                [[], ["no_such_op"], [choices[0], choices[0]], choices[0], None])
    if option.type == "choice":
        return list(option.choices), ["no_such_choice", None, 1]
    if option.type == "bool":
        return [True, False], [1, "true", None]
    return ["text"], [1, None]


OPTIONS = [(name, option.name) for name in SPACES for option in space_class(name).schema.options]


@pytest.mark.parametrize(("name", "option_name"), OPTIONS)
def test_create_space_enforces_each_options_declared_range_and_choices(name: str, option_name: str) -> None:
    option = space_class(name).schema[option_name]
    good, bad = edge_cases(option)
    for value in good:
        space = create_space(name, **{option_name: value})
        expected = tuple(value) if isinstance(value, list) else value
        assert getattr(space.options, option_name) == expected
    for value in bad:
        if value is None:  # the registry drops None (= "the default")
            assert getattr(create_space(name, **{option_name: None}).options, option_name) == option.default
            continue
        with pytest.raises(OptionsError) as caught:
            create_space(name, **{option_name: value})
        assert list(caught.value.errors) == [option_name], value
        assert option_name in str(caught.value)


@pytest.mark.parametrize("name", SPACES)
def test_unknown_option_is_refused_with_the_known_list(name: str) -> None:
    with pytest.raises(OptionsError) as caught:
        create_space(name, no_such_option=1)
    (message,) = caught.value.errors["no_such_option"]
    assert message == "unknown option; known: " + ", ".join(space_class(name).schema.names())


@pytest.mark.parametrize("name", SPACES)
def test_options_specs_and_defaults_come_from_the_schema(name: str) -> None:
    cls = space_class(name)
    assert cls.option_specs() == list(cls.schema.options)
    assert [f.name for f in dataclasses.fields(cls.Options)] == cls.schema.names()
    assert dataclasses.asdict(create_space(name).options) == cls.schema.defaults()
    assert create_space(name).describe()["options"] == cls.schema.defaults()
    with pytest.raises(OptionsError):
        cls.Options(**{cls.schema.names()[0]: object()})  # the dataclass checks through the schema


def cli_items(option: Option, value: Any) -> str:
    text = ",".join(value) if isinstance(value, (list, tuple)) else str(value).lower()
    return f"{option.name}={text}"


@pytest.mark.parametrize("name", SPACES)
def test_cli_text_and_json_give_the_same_options(name: str) -> None:
    schema = space_class(name).schema
    for pick in (0, -1):  # every option at its first, then at its last accepted edge value
        values = {o.name: edge_cases(o)[0][pick] for o in schema.options}
        items = [cli_items(schema[key], value) for key, value in values.items()]
        from_json = create_space(name, **json.loads(json.dumps(values))).options
        from_cli = create_space(name, **parse_space_options(name, items)).options
        assert from_cli == from_json
        assert schema.parse_text(items) == schema.parse(values)
        dashed = [item.replace("_", "-", 1) if "_" in item.split("=")[0] else item for item in items]
        assert parse_space_options(name, dashed) == parse_space_options(name, items)
