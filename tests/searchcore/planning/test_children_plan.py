"""Planning a search whose children train from scratch (``planning.children``): the budget buys
controller steps first; the children's size and time cap follow from measured costs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.events import ListSink
from searchcore.planning import StepTiming
from searchcore.planning import apply as plan_apply
from searchcore.planning.children import (
    MEASURED_CHILDREN,
    MIN_CHILD_EPOCHS,
    MIN_SCRATCH_STEPS,
    median_measure,
    plan_children,
)
from searchcore.planning.ladder import proxy_ladder
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec

TASK = TaskSpec.image(3, 32, 10)
TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"


class ChildCosts:
    """A child's step time grows with channels² (a conv net); records what was measured."""

    def __init__(self, unit: float) -> None:
        self.unit = unit
        self.calls: list[tuple[dict[str, Any], bool]] = []

    def __call__(self, space: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
                 batch: int) -> StepTiming:
        self.calls.append((dict(options), supernet))
        per_16 = self.unit * options.get("channels", 24) ** 2
        return StepTiming(train_step=per_16 * batch / 16, forward=per_16 * batch / 48, batch=batch)


def _plan(budget: float, costs: ChildCosts, **kw: Any) -> Any:
    args = {"train_size": 1600, "valid_size": 200, "batch_size": None, "children_per_step": 4,
            "child_epochs": 5, "space_options": {}, **kw}
    options = args.pop("space_options")
    return plan_children("nas-rl-cnn", options, TASK, budget_seconds=budget, measure=costs, **args)


@pytest.mark.parametrize("budget", [600.0, 1800.0, 7200.0])
def test_the_budget_buys_the_minimum_steps_with_children_of_the_largest_size_that_fits(budget: float) -> None:
    costs = ChildCosts(unit=2e-4)
    plan = _plan(budget, costs)
    assert all(not supernet for _, supernet in costs.calls)  # children are measured standalone
    assert plan.space_options in proxy_ladder("nas-rl-cnn") and plan.meaningful
    children = MIN_SCRATCH_STEPS * 4 + 1
    assert plan.child_seconds == pytest.approx(budget / children, rel=1e-2)
    assert plan.seconds_per_epoch * MIN_CHILD_EPOCHS <= plan.child_seconds  # each child gets its epochs
    assert plan.controller_steps >= MIN_SCRATCH_STEPS
    larger = [r for r in proxy_ladder("nas-rl-cnn") if r["channels"] > plan.space_options["channels"]]
    if larger:  # the next size up would not have fitted (or was not measured: the ladder stops there)
        measured = {json.dumps(m["size"]): m["epochs"] for m in plan.measured}
        key = json.dumps(larger[0])
        assert key not in measured or measured[key] < MIN_CHILD_EPOCHS


def test_a_larger_budget_buys_larger_children() -> None:
    small, large = _plan(300.0, ChildCosts(2e-4)), _plan(7200.0, ChildCosts(2e-4))
    assert small.space_options["channels"] <= large.space_options["channels"]


def test_too_small_a_budget_says_so_with_a_budget_that_is_enough() -> None:
    plan = _plan(60.0, ChildCosts(2e-3))
    assert not plan.meaningful and "too little for the controller to learn" in plan.message
    assert plan.space_options == proxy_ladder("nas-rl-cnn")[0]
    enough = _plan(plan.minimum_budget_seconds * 1.01, ChildCosts(2e-3))
    assert enough.meaningful


def test_children_that_finish_their_epochs_early_leave_time_for_more_steps() -> None:
    plan = _plan(36000.0, ChildCosts(1e-6), child_epochs=2)
    assert plan.epochs == 2 and plan.controller_steps > 10 * MIN_SCRATCH_STEPS


def test_sizes_the_user_set_are_kept() -> None:
    plan = _plan(7200.0, ChildCosts(2e-4), space_options={"channels": 12})
    assert plan.space_options == {"channels": 12}


def _config(**overrides: Any) -> SearchConfig:
    settings: dict[str, Any] = {
        "space": "nas-rl-cnn", "data": str(TINY), "evaluator": "scratch", "budget_seconds": 30.0,
        "space_options": {"num_layers": 2, "filter_counts": ["24"]}, "image_size": 8, "device": "cpu",
        "archs_per_step": 2}
    settings.update(overrides)
    return SearchConfig(**settings)


def test_a_timed_scratch_search_runs_its_plan_and_keeps_it_on_resume(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    costs = ChildCosts(unit=1e-5)
    measured_archs: list[dict[str, Any]] = []

    def measure_for(device: str, arch: dict[str, Any]) -> ChildCosts:
        measured_archs.append(arch)
        return costs

    monkeypatch.setattr(plan_apply, "default_measure", measure_for)
    seen: list[dict[str, Any]] = []
    real = plan_apply.planned_search_config

    def spy(config: SearchConfig, plan: Any) -> SearchConfig:
        planned = real(config, plan)
        seen.append(planned.evaluator_options)
        return planned

    monkeypatch.setattr(plan_apply, "planned_search_config", spy)
    sink = ListSink()
    result = run_search(_config(), tmp_path, sink=sink)
    assert result.status == "succeeded"
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["child_seconds"] == pytest.approx(30.0 / (MIN_SCRATCH_STEPS * 2 + 1), rel=1e-2)
    assert seen == [{"child_seconds": plan["child_seconds"]}]
    planned = [e.payload for e in sink.events if e.type == "plan"]
    assert len(planned) == 1 and planned[0]["details"] == plan
    assert result.config["evaluator_options"] == {}  # the stored config keeps what the user gave

    def no_measuring(*args: Any) -> Any:
        raise AssertionError("a resumed search must not plan again")

    assert len(measured_archs) == MEASURED_CHILDREN  # the median of typical children
    assert len({json.dumps(a, sort_keys=True) for a in measured_archs}) == MEASURED_CHILDREN
    monkeypatch.setattr(plan_apply, "default_measure", lambda device, arch=None: no_measuring)
    assert run_search(_config(), tmp_path).status == "succeeded"


def test_the_users_child_epochs_or_seconds_are_kept() -> None:
    plan = _plan(600.0, ChildCosts(2e-4))
    for given in ({"child_epochs": 3}, {"child_seconds": 9.0}, {"child_epochs": None}):
        planned = plan_apply.planned_search_config(_config(evaluator_options=given), plan)
        assert planned.evaluator_options == given


def test_a_size_costs_the_median_of_its_typical_children() -> None:
    def fixed(seconds: float) -> Any:
        timing = StepTiming(train_step=seconds, forward=seconds / 3, batch=16)
        return lambda space, options, task, supernet, batch: timing

    timing = median_measure([fixed(1.0), fixed(9.0), fixed(2.0)])("nas-rl-cnn", {}, TASK, False, 32)
    assert timing.train_seconds(32) == pytest.approx(4.0)  # the median of 2, 18 and 4 s at batch 32
    assert timing.forward_seconds(32) == pytest.approx(4 / 3)
