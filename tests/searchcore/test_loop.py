"""The search loop on the NAS-Bench-201 table: events, budget, result.json, cancel, failure."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from searchcore.config import SearchConfig
from searchcore.events import ListSink, read_events
from searchcore.search.loop import SearchResult, SearchSetupError, run_search

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TABLE = FIXTURES / "nb201_cifar10.csv"


def _table() -> dict[str, float]:
    with TABLE.open(newline="") as fh:
        return {row["arch"]: float(row["cifar10_test_acc_200ep"]) for row in csv.DictReader(fh)}


def _config(**overrides: object) -> SearchConfig:
    settings: dict = {"space": "nb201", "data": str(TABLE), "evaluator": "benchmark", "controller": "random",
                      "max_archs": 60, "controller_steps_per_epoch": 5}
    settings.update(overrides)
    return SearchConfig(**settings)


@pytest.mark.parametrize("controller", ["random", "reinforce"])
def test_benchmark_search_events_budget_and_result(tmp_path: Path, controller: str) -> None:
    sink = ListSink()
    result = run_search(_config(controller=controller), tmp_path, sink=sink)

    events = read_events(tmp_path / "events.jsonl")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.to_dict() for e in sink.events] == [e.to_dict() for e in events]  # the sink saw the same stream
    assert events[0].type == "status" and events[-1].type == "finished"
    assert events[-1].payload["status"] == "succeeded" and result.last_seq == events[-1].seq

    sampled = [e.payload for e in events if e.type == "arch_sampled"]
    steps = [e.payload["step"] for e in events if e.type == "controller_step"]
    assert steps == list(range(1, len(steps) + 1))
    per_step = Counter(a["step"] for a in sampled)  # the evaluator's suggestion: 5 per update
    assert [per_step[s] for s in steps[:-1]] == [5] * (len(steps) - 1) and 1 <= per_step[steps[-1]] <= 5
    distinct = {a["architecture"]["arch_str"] for a in sampled}
    assert len(distinct) == 60 == result.archs_evaluated  # max_archs counts distinct architectures
    table = _table()
    assert all(a["reward"] == table[a["architecture"]["arch_str"]] for a in sampled)
    assert all(a["graph"]["cells"][0]["edges"] is not None for a in sampled)
    assert any(e.type == "progress" for e in events)

    best_seen = max(table[s] for s in distinct)
    assert result.best_reward == table[result.best_arch["arch_str"]] >= best_seen
    bests = [e.payload["reward"] for e in events if e.type == "best"]
    assert bests[:-1] == sorted(bests[:-1]) and bests[-1] == result.best_reward

    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["space"] == "nb201" and stored["status"] == "succeeded"
    assert stored["best"] == {"architecture": result.best_arch, "reward": result.best_reward}
    assert stored["epochs"] == result.epochs == 3  # 5 + 5 steps of 5 + a cut third epoch
    assert stored["config"]["controller"] == controller
    keys = {"space", "best", "status", "epochs", "archs_evaluated", "elapsed_seconds", "config"}
    assert set(stored) >= keys
    assert (tmp_path / "checkpoint.pt").exists()


def test_max_epochs_budget_counts_whole_epochs(tmp_path: Path) -> None:
    result = run_search(_config(max_archs=None, max_epochs=2, controller_steps_per_epoch=7), tmp_path)
    steps = [e for e in read_events(tmp_path / "events.jsonl") if e.type == "controller_step"]
    assert result.epochs == 2 and len(steps) == 14
    progress = [e.payload for e in read_events(tmp_path / "events.jsonl") if e.type == "progress"]
    assert progress[-1]["fraction"] == 1.0 and progress[-1]["eta_seconds"] == 0.0


def test_rerun_of_a_succeeded_search_returns_the_stored_result(tmp_path: Path) -> None:
    first = run_search(_config(), tmp_path)
    size = (tmp_path / "events.jsonl").stat().st_size
    again = run_search(_config(), tmp_path)
    assert again == SearchResult.from_dict(json.loads((tmp_path / "result.json").read_text()))
    assert (again.best_arch, again.best_reward, again.last_seq) == (first.best_arch, first.best_reward,
                                                                   first.last_seq)
    assert (tmp_path / "events.jsonl").stat().st_size == size  # no work, no new events


def test_should_stop_cancels_and_records_it(tmp_path: Path) -> None:
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    result = run_search(_config(max_archs=None, max_epochs=50), tmp_path, should_stop=should_stop)
    events = read_events(tmp_path / "events.jsonl")
    assert result.status == "cancelled" and events[-1].type == "finished"
    assert events[-1].payload["status"] == "cancelled"
    assert 0 < len([e for e in events if e.type == "controller_step"]) < 50
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "cancelled"


def test_emit_finished_false_ends_with_a_status_event(tmp_path: Path) -> None:
    result = run_search(_config(), tmp_path, emit_finished=False)
    events = read_events(tmp_path / "events.jsonl")
    assert not any(e.type == "finished" for e in events)
    assert events[-1].type == "status" and events[-1].payload["status"] == "search_ended"
    assert events[-1].payload["search_status"] == "succeeded" and result.last_seq == events[-1].seq


def test_setup_error_is_recorded_as_failed_and_raised(tmp_path: Path) -> None:
    with pytest.raises(SearchSetupError, match="unknown search space 'nope'"):
        run_search(_config(space="nope"), tmp_path)
    events = read_events(tmp_path / "events.jsonl")
    assert [e.type for e in events] == ["finished"] and events[0].payload["status"] == "failed"
    assert "unknown search space" in events[0].payload["message"]


def test_benchmark_refuses_a_non_nb201_space(tmp_path: Path) -> None:
    expected = "^evaluator: the benchmark evaluator works only with the nb201"
    with pytest.raises(SearchSetupError, match=expected) as caught:
        run_search(_config(space="enas-micro"), tmp_path)
    assert list(caught.value.errors) == ["evaluator"]  # searchcore.compat names the field to blame


def test_progress_is_steady_consistent_and_counts_what_the_budget_counts(tmp_path: Path) -> None:
    """The live page's progress card is drawn from these events alone: they must come at least
    every ``PROGRESS_EVERY_S`` (plus one step) inside an epoch, never go back, and report
    architectures as ``max_archs`` counts them. Polls are slowed to ~50 ms (5 per step of 5
    architectures) so one epoch of 5 steps (1.25 s) outlasts the throttle, as a real epoch does."""
    from searchcore.search.loop import PROGRESS_EVERY_S
    from searchcore.search.schedule import MAX_DERIVE_SHARE

    def slow_poll() -> bool:
        time.sleep(0.05)
        return False

    sink = ListSink()
    run_search(_config(controller="reinforce", max_archs=None, budget_seconds=3.5), tmp_path, sink=sink,
               should_stop=slow_poll)
    events = sink.events
    progress = [e for e in events if e.type == "progress"]
    first_step = next(e.time for e in events if e.type == "controller_step")
    last_step = max(e.time for e in events if e.type == "controller_step")
    times = [first_step] + [e.time for e in progress if first_step < e.time <= last_step] + [last_step]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) <= PROGRESS_EVERY_S + 0.3
    fractions = [e.payload["fraction"] for e in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0.0 < f < 1.0 for f in fractions[1:-2]), "the bar must move inside the search"
    elapsed = [e.payload["elapsed_seconds"] for e in progress]
    # the search phase ends when what is not kept for derive is used (schedule.MAX_DERIVE_SHARE at most);
    # progress rounds elapsed to 0.01 s, so 2.8 may stand for 2.8000000000000003
    assert elapsed == sorted(elapsed) and elapsed[-1] >= round(3.5 * (1 - MAX_DERIVE_SHARE), 2) - 0.005
    seen: set[str] = set()
    for event in events:  # each progress and step reports the distinct architectures sampled so far
        if event.type == "arch_sampled":
            seen.add(event.payload["architecture"]["arch_str"])
        elif event.type in ("progress", "controller_step"):
            assert event.payload["archs_evaluated"] == len(seen)
    assert progress[-1].payload["epoch"] >= 2
    types = [e.type for e in events]
    after_first_step = types[types.index("controller_step") + 1:]
    assert after_first_step.index("progress") < after_first_step.index("controller_step")


def test_weight_sharing_counts_controller_samples_everywhere(tmp_path: Path) -> None:
    """``max_archs`` counts controller samples for ``shared``; progress and the result say the same."""
    config = SearchConfig(space="nb201", data=str(FIXTURES / "cifar10_tiny_png.zip"), evaluator="shared",
                          controller="random", max_archs=12, controller_steps_per_epoch=5, image_size=16,
                          derive_samples=2, batch_size=16, device="cpu",
                          space_options={"channels": 4, "cells_per_stage": 1})
    sink = ListSink()
    result = run_search(config, tmp_path, sink=sink)
    steps = 0
    for event in sink.events:
        if event.type == "controller_step":
            steps += 1
            assert event.payload["archs_evaluated"] == steps
        elif event.type == "progress":
            assert event.payload["archs_evaluated"] == steps
    assert steps == 12 == result.archs_evaluated
