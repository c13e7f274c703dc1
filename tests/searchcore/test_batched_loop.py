"""Controller steps score batches through submit/wait and an executor (issue 6, item 2)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench import nb201 as bench
from searchcore.config import SearchConfig
from searchcore.evaluators import (
    InProcessExecutor,
    Job,
    Ticket,
    check_evaluator_options,
    evaluator_class,
    evaluator_schema,
    run_job,
)
from searchcore.events import ListSink
from searchcore.schema import OptionsError
from searchcore.search import setup as search_setup
from searchcore.search.loop import run_search

TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"


def _config(**overrides: Any) -> SearchConfig:
    settings: dict[str, Any] = {"space": "nb201", "data": str(TABLE), "evaluator": "benchmark",
                                "controller": "reinforce", "max_archs": 40, "controller_steps_per_epoch": 4}
    settings.update(overrides)
    return SearchConfig(**settings)


class RecordingExecutor(InProcessExecutor):
    """The default executor, keeping every job it was given."""

    def __init__(self, on_submit: Callable[[int], None] = lambda n: None) -> None:
        self.jobs: list[Job] = []
        self.submits = 0
        self.on_submit = on_submit

    def submit(self, jobs: Sequence[Job]) -> Ticket:
        self.jobs.extend(jobs)
        self.submits += 1
        return super().submit(jobs)


@pytest.fixture
def update_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each ``controller.update`` call the loop makes."""
    sizes: list[int] = []
    real = search_setup.create_controller

    def spying(*args: Any, **kwargs: Any) -> Any:
        controller = real(*args, **kwargs)
        update = controller.update

        def counted(rewards: Sequence[float]) -> Any:
            sizes.append(len(rewards))
            return update(rewards)

        controller.update = counted
        return controller

    monkeypatch.setattr(search_setup, "create_controller", spying)
    return sizes


@pytest.mark.parametrize("n", [1, 3])
def test_a_controller_step_scores_n_architectures_and_updates_once(tmp_path: Path, n: int,
                                                                   update_sizes: list[int]) -> None:
    sink = ListSink()
    run_search(_config(archs_per_step=n, max_archs=None, max_epochs=2), tmp_path, sink=sink)
    steps = [e.payload for e in sink.events if e.type == "controller_step"]
    sampled = Counter(e.payload["step"] for e in sink.events if e.type == "arch_sampled")
    assert [s["step"] for s in steps] == list(range(1, 9))  # 2 epochs of 4 steps
    assert update_sizes == [n] * 8 and [sampled[s["step"]] for s in steps] == [n] * 8
    rewards = [e.payload["reward"] for e in sink.events if e.type == "arch_sampled"]
    for i, step in enumerate(steps):  # the step's reward is its batch's mean, best_reward the best so far
        assert step["reward"] == pytest.approx(sum(rewards[i * n:(i + 1) * n]) / n)
        assert step["best_reward"] == max(rewards[:(i + 1) * n])
        assert {"baseline", "entropy", "loss", "log_prob", "archs_evaluated"} <= set(step)


def test_the_evaluator_suggests_the_batch_and_max_archs_is_never_overshot(tmp_path: Path,
                                                                         update_sizes: list[int]) -> None:
    result = run_search(_config(max_archs=12), tmp_path)
    assert update_sizes[:2] == [5, 5] and sum(update_sizes) >= 12  # benchmark's suggestion: 5
    assert result.archs_evaluated == 12
    result = run_search(_config(archs_per_step=7, max_archs=10, controller="random"), tmp_path / "b")
    assert result.archs_evaluated == 10  # the last step samples only what the budget has left


def test_the_executor_gets_self_contained_jobs(tmp_path: Path) -> None:
    executor = RecordingExecutor()
    sink = ListSink()
    config = _config(archs_per_step=3, derive_samples=2)
    result = run_search(config, tmp_path, sink=sink, executor=executor)
    sampled = [e.payload for e in sink.events if e.type == "arch_sampled"]
    assert len(executor.jobs) >= len(sampled) + 1  # the controller steps' and derive's candidates
    for job, event in zip(executor.jobs, sampled, strict=False):
        wire = json.loads(json.dumps(job.to_dict()))  # what a remote worker would receive
        assert wire["arch"] == event["architecture"] and wire["evaluator"] == "benchmark"
        assert run_job(wire) == run_job(Job.from_dict(wire)) == {"reward": event["reward"]}  # idempotent
    assert result.best_reward == max(run_job(job.to_dict())["reward"] for job in executor.jobs)


def test_should_stop_while_waiting_drops_the_batch_and_cancels(tmp_path: Path,
                                                               update_sizes: list[int]) -> None:
    executor = RecordingExecutor()
    sink = ListSink()
    # True from the second batch's wait on: the poll before it said False, the one between its jobs True
    result = run_search(_config(archs_per_step=3, max_archs=None, max_epochs=3), tmp_path, sink=sink,
                        executor=executor, should_stop=lambda: executor.submits >= 2)
    assert result.status == "cancelled" and executor.submits == 2
    assert update_sizes == [3]  # only the first batch was learnt from
    assert [e.payload["step"] for e in sink.events if e.type == "arch_sampled"] == [1, 1, 1]
    assert sink.events[-1].type == "finished" and sink.events[-1].payload["status"] == "cancelled"
    assert result.archs_evaluated == len({a.arch["arch_str"] for a in executor.jobs[:3]})


def test_the_bench_runs_the_shipped_loop(tmp_path: Path) -> None:
    """bench/nb201.py's per-seed figure is what a user's plain search of that seed finds."""
    budgets = (10, 30)
    for method in ("reinforce", "ppo", "random"):
        sink = ListSink()
        plain = SearchConfig(space="nb201", data=str(TABLE), evaluator="benchmark", controller=method,
                             max_archs=30, seed=3)
        run_search(plain, tmp_path / method, sink=sink)
        measured = bench.run_one(method, 3, TABLE, budgets=budgets)
        assert measured == bench.best_within(sink.events, budgets)
        first = [e.payload for e in sink.events if e.type == "arch_sampled"]
        distinct: dict[str, float] = {}
        for a in first:
            distinct.setdefault(a["architecture"]["arch_str"], a["reward"])
        assert measured["best"] == [max(list(distinct.values())[:b]) for b in budgets]
        assert measured["distinct"] == 30 and measured["samples"] == len(first)


def test_evaluator_options_and_summaries_come_from_the_schema() -> None:
    shared = evaluator_schema("shared")
    assert shared.names() == ["batch_size", "lr", "lr_min", "momentum", "weight_decay", "grad_clip",
                              "augment", "amp", "channels_last"]
    assert evaluator_schema("benchmark").names() == ["accuracy_column"]
    with pytest.raises(OptionsError) as caught:
        shared.parse({"lr": 500.0, "momentum": True})  # up to 100: ENAS's language lr is 20
    assert set(caught.value.errors) == {"lr", "momentum"}
    with pytest.raises(ValueError, match="unknown benchmark evaluator option lr"):
        check_evaluator_options("benchmark", {"lr": 0.1})
    check_evaluator_options("shared", {"batch_size": 32, "grad_clip": None})
    assert evaluator_class("shared").summary.startswith("Weight sharing (ENAS)")
    assert evaluator_class("benchmark").summary.startswith("NAS-Bench-201 table lookup")
    assert evaluator_class("benchmark").suggested_samples_per_update == 5


def test_bad_evaluator_options_are_a_setup_error(tmp_path: Path) -> None:
    from searchcore.search import SearchSetupError

    with pytest.raises(SearchSetupError, match="lr: must be between") as caught:
        run_search(SearchConfig(space="nb201", data=str(TABLE), evaluator="shared", max_epochs=1,
                                evaluator_options={"lr": 999.0}), tmp_path)
    assert caught.value.errors == {"evaluator_options": ["lr: must be between 1e-06 and 100"]}
