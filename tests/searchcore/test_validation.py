from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.training.final import FinalConfig, for_kind
from searchcore.training.settings import FINAL_SCHEMA, final_schema
from searchcore.validation import SEARCH_SCHEMA, STRATEGY_FIELDS, search_config, validate_search


def _ok(**over: Any) -> dict[str, Any]:
    data = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "max_archs": 10}
    data.update(over)
    return data


def test_canonical_config_is_complete_and_runs_as_a_search_config() -> None:
    config, errors = validate_search(_ok(final={"batch_size": 8}))
    assert errors == {}
    assert config["final"]["batch_size"] == 8 and config["batch_size"] is None
    built = search_config(config, data="table.csv", device="cpu")
    assert (built.max_archs, built.evaluator, built.device) == (10, "benchmark", "cpu")
    assert built.data == "table.csv"


@pytest.mark.parametrize(("over", "field"), [
    ({"max_archs": 15626}, "max_archs"),  # nb201 has 15625 cells
    ({"max_archs": 10**15}, "max_archs"),
    ({"max_archs": True}, "max_archs"),
    ({"budget_seconds": 12 * 3600 + 1}, "budget_seconds"),
    ({"max_archs": None, "max_epochs": 10_001}, "max_epochs"),
    ({"max_archs": None}, "budget_seconds"),
    ({"seed": 1.5}, "seed"),
    ({"grayscale": 1}, "grayscale"),
    ({"final": {"epochs": 10**9}}, "final"),
    ({"final": {"budget_seconds": 10**6}}, "final"),
    ({"final": {"aux_head": "yes"}}, "final"),
    ({"final": {"data": "x"}}, "final"),
    ({"evaluator": "shared", "space": "nb201", "space_options": {"channels": 100000}}, "space_options"),
    ({"space": "enas-micro"}, "evaluator"),
    ({"controller": "nope"}, "controller"),
    ({"device": "cuda"}, "device"),
    ({"data": "/etc/passwd"}, "data"),
])
def test_each_bad_field_is_named(over: dict[str, Any], field: str) -> None:
    config, errors = validate_search(_ok(**over))
    assert config == {} and field in errors, errors


def test_no_model_is_built_to_refuse_a_huge_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a model was built to validate options")

    monkeypatch.setattr(torch.nn.LSTMCell, "__init__", boom)
    monkeypatch.setattr(torch.nn.LSTM, "__init__", boom)
    monkeypatch.setattr(torch.optim.Adam, "__init__", boom)
    config, errors = validate_search(_ok(controller="reinforce", controller_options={"lstm_size": "big"}))
    assert "controller_options" in errors
    config, errors = validate_search(_ok(controller="reinforce", controller_options={"lstm_size": 32}))
    assert errors == {} and config["controller_options"] == {"lstm_size": 32}


def test_every_search_config_field_is_declared() -> None:
    """A new SearchConfig field must be declared here too, or the web app cannot set or store it."""
    declared = set(SEARCH_SCHEMA.names()) | set(STRATEGY_FIELDS) - {"final"}
    assert {f.name for f in dataclasses.fields(SearchConfig)} - {"data", "device"} == declared


@pytest.mark.parametrize("kind", ["image", "language"])
def test_each_kinds_final_schema_defaults_are_the_final_config_it_trains_with(kind: str) -> None:
    """Every kind's settings are FinalConfig fields, and a FinalConfig that leaves them unset trains
    with the kind's declared defaults (``for_kind``): no other kind's value is swapped in."""
    resolved = for_kind(FinalConfig(arch={}, data="", epochs=1), kind)
    for option in final_schema(kind).options:
        if option.name not in ("epochs", "budget_seconds"):
            assert getattr(resolved, option.name) == option.default, option.name
    assert final_schema("image") is FINAL_SCHEMA


def test_image_size_and_grayscale_are_auto_unless_given() -> None:
    """Left out (or null) they stay ``None``: the dataset's native input, resolved where it is loaded."""
    config, errors = validate_search(_ok())
    assert errors == {} and (config["image_size"], config["grayscale"]) == (None, None)
    assert validate_search(_ok(image_size=None, grayscale=None))[0] == config
    given, errors = validate_search(_ok(image_size=20, grayscale=False))
    assert errors == {} and (given["image_size"], given["grayscale"]) == (20, False)
    built = search_config(given, data="x.zip", device="cpu")
    assert (built.image_size, built.grayscale) == (20, False)
    assert "image_size" in validate_search(_ok(image_size=4))[1]
    assert (SearchConfig.image_size, SearchConfig.grayscale) == (None, None)


def test_latency_target_is_off_unless_given_and_its_fields_are_checked() -> None:
    config, errors = validate_search(_ok())
    assert errors == {}
    off = (config["latency_target_ms"], config["latency_weight"], config["latency_mode"])
    assert off == (None, -0.07, "soft")
    on, errors = validate_search(_ok(latency_target_ms=5, latency_weight=-0.2, latency_mode="hard"))
    assert errors == {} and (on["latency_target_ms"], on["latency_mode"]) == (5.0, "hard")
    built = search_config(on, data="table.csv", device="cpu")
    assert (built.latency_target_ms, built.latency_weight, built.latency_mode) == (5.0, -0.2, "hard")
    for field, value in [("latency_target_ms", 0), ("latency_target_ms", -3.0), ("latency_target_ms", "5ms"),
                         ("latency_target_ms", 10**6), ("latency_target_ms", True), ("latency_weight", 0.5),
                         ("latency_weight", -2.0), ("latency_mode", "medium"), ("latency_mode", None)]:
        config, errors = validate_search(_ok(**{field: value}))
        assert config == {} and field in errors, (field, value, errors)
