"""The budget planner (issue 7, item 1): given measured step costs, the plan fits the budget and
meets the minimums; too small a budget says so with the smallest budget that would do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.events import ListSink
from searchcore.planning import (
    MIN_CONTROLLER_STEPS,
    MIN_FINAL_EPOCHS,
    MIN_SEARCH_EPOCHS,
    StepTiming,
    plan_final,
    plan_search,
)
from searchcore.planning import apply as plan_apply
from searchcore.planning.ladder import child_ladder, proxy_ladder
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec, list_spaces, space_class

TASK = TaskSpec.image(3, 32, 10)
TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"


class FakeCosts:
    """Step time grows with channels² × cells (what a conv net does); records what was measured."""

    def __init__(self, unit: float = 1e-4) -> None:
        self.unit = unit
        self.calls: list[dict[str, Any]] = []

    def __call__(self, space: str, options: dict[str, Any], task: TaskSpec, supernet: bool,
                 batch: int) -> StepTiming:
        self.calls.append(dict(options))
        size = options.get("channels", 16) ** 2 * options.get("cells_per_stage", 2) * (5 if supernet else 1)
        per_16 = self.unit * size  # the cost of 16 images, measured at the run's batch
        return StepTiming(train_step=per_16 * batch / 16, forward=per_16 * batch / 48, batch=batch)


def _search(budget: float, costs: FakeCosts, **kw: Any) -> Any:
    args = {"train_size": 1600, "valid_size": 200, "batch_size": None, "controller_steps_per_epoch": 30,
            "derive_samples": 16, **kw}
    return plan_search("enas-micro", kw.pop("space_options", {}), TASK, budget_seconds=budget, measure=costs,
                       **{k: v for k, v in args.items() if k != "space_options"})


@pytest.mark.parametrize("budget", [120.0, 600.0, 3600.0])
def test_search_plan_fits_the_budget_meets_the_minimums_and_is_the_largest_that_fits(budget: float) -> None:
    costs = FakeCosts()
    plan = _search(budget, costs)
    assert plan.meaningful
    assert plan.epochs >= MIN_SEARCH_EPOCHS and plan.controller_steps >= MIN_CONTROLLER_STEPS
    assert plan.epochs * plan.seconds_per_epoch + plan.derive_seconds <= budget * 1.001  # rounding
    ladder = proxy_ladder("enas-micro")
    chosen = ladder.index(plan.space_options)
    if chosen + 1 < len(ladder):  # the next size up was measured and did not fit
        bigger = plan.measured[chosen + 1]
        assert bigger["size"] == ladder[chosen + 1] and bigger["epochs"] < MIN_SEARCH_EPOCHS
    assert plan.batch_size == 64 and "buys about" in plan.message


def test_a_larger_budget_buys_a_larger_proxy() -> None:
    small, large = _search(120.0, FakeCosts()), _search(3600.0, FakeCosts())
    ladder = proxy_ladder("enas-micro")
    assert ladder.index(large.space_options) > ladder.index(small.space_options)


def test_too_small_a_budget_says_so_and_proposes_a_budget_that_is_enough() -> None:
    plan = _search(5.0, FakeCosts())
    assert not plan.meaningful
    assert plan.space_options == proxy_ladder("enas-micro")[0]  # the smallest size is used
    assert "too little for the controller to learn" in plan.message and "at least" in plan.message
    enough = _search(plan.minimum_budget_seconds * 1.05, FakeCosts())
    assert enough.meaningful


def test_sizes_and_batch_the_user_set_are_kept() -> None:
    costs = FakeCosts()
    plan = _search(600.0, costs, space_options={"channels": 12}, batch_size=32)
    assert plan.space_options["channels"] == 12 and plan.batch_size == 32
    assert all(call["channels"] == 12 for call in costs.calls)


def test_a_small_dataset_gets_a_smaller_batch_not_fewer_steps() -> None:
    plan = _search(600.0, FakeCosts(), train_size=200)
    assert plan.batch_size == 200 // 8


def test_final_plan_fits_and_too_small_says_so() -> None:
    kw = {"train_size": 1600, "valid_size": 200, "batch_size": None, "given": {}}
    plan = plan_final("enas-micro", {}, TASK, budget_seconds=300.0, measure=FakeCosts(), **kw)
    assert plan.meaningful and plan.epochs >= MIN_FINAL_EPOCHS
    assert plan.epochs * plan.seconds_per_epoch <= 300.0 * 1.001
    assert plan.overrides in child_ladder("enas-micro")
    tiny = plan_final("enas-micro", {}, TASK, budget_seconds=2.0, measure=FakeCosts(), **kw)
    assert not tiny.meaningful and "at least" in tiny.message
    assert plan_final("enas-micro", {}, TASK, budget_seconds=tiny.minimum_budget_seconds * 1.05,
                      measure=FakeCosts(), **kw).meaningful
    mine = plan_final("enas-micro", {}, TASK, budget_seconds=300.0, measure=FakeCosts(),
                      **{**kw, "given": {"channels": 8}})
    assert mine.overrides["channels"] == 8


@pytest.mark.parametrize("space", [s for s in list_spaces() if space_class(s).task_kind == "image"])
def test_every_image_space_has_ladders_within_its_option_ranges(space: str) -> None:
    schema = space_class(space).schema
    for ladder in (proxy_ladder(space), child_ladder(space)):
        assert ladder, f"{space} is not planned"
        for rung in ladder:
            for name, value in rung.items():
                option = schema[name]
                assert option.minimum <= value <= option.maximum


def _config(**kw: Any) -> SearchConfig:
    base = {"space": "nb201", "data": str(TINY), "evaluator": "shared", "controller": "reinforce",
            "budget_seconds": 6.0, "image_size": 16, "controller_steps_per_epoch": 3, "derive_samples": 2,
            "device": "cpu"}
    return SearchConfig(**{**base, **kw})


def test_a_timed_search_is_planned_announced_and_keeps_its_plan_on_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = FakeCosts(unit=1e-5)
    monkeypatch.setattr(plan_apply, "default_measure", lambda device: costs)
    sink = ListSink()
    result = run_search(_config(), tmp_path, sink=sink)
    assert result.status == "succeeded"
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["space_options"] in proxy_ladder("nb201") and plan["batch_size"] >= 4
    planned = [e for e in sink.events if e.type == "plan"]
    assert len(planned) == 1 and planned[0].payload["phase"] == "search"
    assert planned[0].payload["details"] == plan
    types = [e.type for e in sink.events]
    assert types.index("plan") < types.index("controller_step")
    assert result.config["batch_size"] is None  # the stored config keeps what the user gave

    # a rerun of the same folder (a resume) reads the stored plan, measuring nothing
    (tmp_path / "result.json").unlink()

    def no_measuring(*args: Any) -> Any:
        raise AssertionError("a resumed search must not plan again")

    monkeypatch.setattr(plan_apply, "default_measure", lambda device: no_measuring)
    assert run_search(_config(), tmp_path).status == "succeeded"


def test_an_epoch_budget_or_no_plan_keeps_the_configuration(tmp_path: Path) -> None:
    assert not plan_apply.should_plan_search(_config(budget_seconds=None, max_epochs=1))
    assert not plan_apply.should_plan_search(_config(plan=False))
    assert not plan_apply.should_plan_search(_config(evaluator="benchmark"))
    unplanned = plan_apply.planned_search_config(_config(plan=False), None)
    assert unplanned.batch_size == plan_apply.DEFAULT_SEARCH_BATCH and unplanned.space_options == {}


def test_a_timed_final_training_is_planned_on_its_own_architecture(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from searchcore.training.final import FinalConfig, train_final

    costs, measured_archs = FakeCosts(unit=1e-6), []

    def measure_for(device: str, arch: Any = None) -> FakeCosts:
        measured_archs.append(arch)
        return costs

    monkeypatch.setattr(plan_apply, "default_measure", measure_for)
    arch = {"space": "nb201", "arch_str": "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                                          "|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"}
    sink = ListSink()
    config = FinalConfig(arch=arch, data=str(TINY), budget_seconds=4.0, image_size=16, device="cpu",
                         cells_per_stage=1)
    result = train_final(config, tmp_path, sink=sink)
    assert result.status == "succeeded" and measured_archs == [arch]
    planned = [e for e in sink.events if e.type == "plan"]
    assert len(planned) == 1 and planned[0].payload["phase"] == "final"
    details = planned[0].payload["details"]
    saved = json.loads((tmp_path / "train_config.json").read_text())
    assert saved["child_overrides"]["channels"] == details["overrides"]["channels"]
    assert saved["child_overrides"]["cells_per_stage"] == 1  # the user's own size is kept
    assert saved["batch_size"] == details["batch_size"] and saved["plan"] is True
