"""Controller options through ``searchcore.schema``: checked and described without building an LSTM;
summaries and classes for the CLI and the designer; the checkpoint keeps its keys."""

from __future__ import annotations

from typing import Any

import pytest

from searchcore.controllers import (
    controller_class,
    controller_schema,
    controller_summaries,
    create_controller,
    list_controllers,
)
from searchcore.controllers.lstm import ReinforceOptions as LegacyReinforceOptions
from searchcore.controllers.policy import LSTMPolicy
from searchcore.controllers.reinforce import ReinforceOptions
from searchcore.registry import UnknownNameError
from searchcore.schema import OptionsError
from searchcore.spaces import Decision

ENAS_DEFAULTS = {"lstm_size": 64, "lstm_layers": 1, "temperature": 5.0, "tanh_constant": 1.10,
                 "op_tanh_reduce": 2.5, "entropy_weight": 1e-4, "baseline_decay": 0.99, "lr": 0.0035,
                 "skip_target": 0.4, "skip_weight": 0.8, "grad_clip": 5.0, "reward_scale": 1.0}


@pytest.fixture
def nothing_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an LSTM policy was built")

    monkeypatch.setattr(LSTMPolicy, "__init__", refuse)


def test_reinforce_schema_declares_todays_options_and_defaults() -> None:
    schema = controller_schema("reinforce")
    assert schema.defaults() == ENAS_DEFAULTS
    assert ReinforceOptions() == ReinforceOptions(**ENAS_DEFAULTS)
    assert LegacyReinforceOptions is ReinforceOptions  # bench/nb201.py imports it from there
    for spec in schema.specs():
        assert spec["help"], spec["name"]
        assert spec["minimum"] is not None and spec["maximum"] is not None
    assert schema["temperature"].nullable and schema["tanh_constant"].nullable
    assert (schema["lstm_size"].minimum, schema["lstm_size"].maximum) == (8, 1024)
    assert (schema["lstm_layers"].minimum, schema["lstm_layers"].maximum) == (1, 4)
    assert controller_schema("random").names() == []


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"lstm_size": 5000}, "lstm_size", "between 8 and 1024"),
    ({"lstm_size": 1e8}, "lstm_size", "whole number"),
    ({"lstm_size": True}, "lstm_size", "whole number"),
    ({"lstm_size": "64"}, "lstm_size", "whole number"),
    ({"lstm_layers": 0}, "lstm_layers", "between 1 and 4"),
    ({"lr": True}, "lr", "must be a number"),
    ({"lr": 0}, "lr", "between"),
    ({"lr": 1e8}, "lr", "between"),
    ({"lr": float("nan")}, "lr", "finite"),
    ({"baseline_decay": 1.0}, "baseline_decay", "between"),
    ({"skip_target": 0.0}, "skip_target", "between"),
    ({"reward_scale": None}, "reward_scale", "must be given"),
    ({"learning_rate": 0.1}, "learning_rate", "unknown option"),
])
def test_bad_options_are_refused_without_building_anything(nothing_built: None, values: dict[str, Any],
                                                           field: str, message: str) -> None:
    errors = controller_schema("reinforce").errors(values)
    assert list(errors) == [field] and message in errors[field][0]
    decisions = [Decision("d0", "op", ("a", "b"), "g", 0)]
    with pytest.raises(OptionsError) as caught:
        create_controller("reinforce", decisions=decisions, seed=0, **values)
    assert field in caught.value.errors
    with pytest.raises((ValueError, TypeError)):  # TypeError: a dataclass refuses unknown names
        ReinforceOptions(**values)


def test_good_options_pass_and_random_takes_none(nothing_built: None) -> None:
    schema = controller_schema("reinforce")
    assert schema.errors({"lstm_size": 1024, "temperature": None, "lr": 1, "grad_clip": 0}) == {}
    assert schema.parse({"temperature": 0})["temperature"] == 0.0
    assert "lr" in controller_schema("random").errors({"lr": 0.1})
    with pytest.raises(OptionsError, match="lr: unknown option"):
        create_controller("random", decisions=[Decision("d0", "op", ("a", "b"), "g", 0)], lr=0.1)


def test_temperature_none_switches_it_off_like_zero(mixed_decisions: list[Decision]) -> None:
    """``None`` reaches the controller (the old registry path dropped None and kept 5.0)."""
    runs = []
    for temperature in (None, 0, 5.0):
        controller = create_controller("reinforce", decisions=mixed_decisions, initial_nodes={"cell": 2},
                                       seed=1, temperature=temperature, lr=0.1)
        assert controller.options.temperature == temperature
        trace = []
        for _ in range(3):
            samples = controller.sample(4)
            trace.append((samples, controller.update([float(v[1]) for v in samples])))
        runs.append(trace)
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_summaries_and_classes_come_from_the_registry() -> None:
    summaries = controller_summaries()
    assert list(summaries) == list_controllers() == ["ppo", "random", "reinforce"]
    for name, summary in summaries.items():
        assert controller_class(name).name == name
        assert summary and "\n" not in summary and summary.endswith(".")
    assert "REINFORCE" in summaries["reinforce"] and "PPO" in summaries["ppo"]
    with pytest.raises(UnknownNameError, match="known: ppo, random, reinforce"):
        controller_class("trpo")


def test_checkpoint_keeps_its_keys(mixed_decisions: list[Decision]) -> None:
    controller = create_controller("reinforce", decisions=mixed_decisions, initial_nodes={"cell": 2}, seed=0,
                                   lr=0.01)
    controller.sample(2)
    controller.update([0.5, 1.0])
    state = controller.state_dict()
    assert set(state) == {"name", "options", "net", "optimizer", "baseline", "steps", "generator"}
    assert state["name"] == "reinforce" and state["steps"] == 1 and state["baseline"] is not None
    assert state["options"] == {**ENAS_DEFAULTS, "lr": 0.01}
    random = create_controller("random", decisions=mixed_decisions, seed=0)
    assert set(random.state_dict()) == {"name", "steps", "generator"}
