"""Planning a ``scratch`` search of language children (``nas-rl-rnn`` on a text corpus): examples are
``seq_len``-token sequences, sizes are ``hidden_size`` rungs, the budget buys controller steps first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.data import load_task_data
from searchcore.events import ListSink
from searchcore.planning import apply as plan_apply
from searchcore.planning.children import (
    LANGUAGE_RUNGS,
    MIN_CHILD_EPOCHS,
    MIN_CHILD_SECONDS,
    MIN_SCRATCH_STEPS,
    example_counts,
    language_ladder,
    plan_children,
)
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec
from searchcore.spaces.base import LANGUAGE

TASK = TaskSpec.language(10_000, 35)
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"


def hidden_cost(unit: float) -> Any:
    """A language child's step grows linearly with hidden_size (softmax and recurrence)."""
    def cost(options: dict[str, Any], supernet: bool, batch: int) -> tuple[float, float]:
        step = unit * options.get("hidden_size", 200) * batch
        return step, step / 3

    return cost


def _plan(budget: float, costs: Any, **options: Any) -> Any:
    # WikiText-2-like: 2M training tokens = 59,650 sequences of 35; 20,000 validation tokens read
    return plan_children("nas-rl-rnn", options, TASK, train_size=59_650, valid_size=571,
                         budget_seconds=budget, batch_size=None, children_per_step=4, child_epochs=5,
                         measure=costs)


def test_language_children_are_sized_by_hidden_size_and_get_their_epochs(recording_costs) -> None:
    assert language_ladder("nas-rl-rnn") == [{"hidden_size": h} for h in LANGUAGE_RUNGS]
    assert language_ladder("nas-rl-cnn") == []
    costs = recording_costs(hidden_cost(2e-6))
    plan = _plan(3600.0, costs)
    assert all(call.task.kind == LANGUAGE and not call.supernet for call in costs.calls)
    assert plan.meaningful and plan.space_options in language_ladder("nas-rl-rnn")
    assert plan.child_seconds == pytest.approx(3600.0 / (MIN_SCRATCH_STEPS * 4 + 1), rel=1e-2)
    assert plan.seconds_per_epoch * MIN_CHILD_EPOCHS <= plan.child_seconds
    chosen = plan.space_options["hidden_size"]
    bigger = [r for r in language_ladder("nas-rl-rnn") if r["hidden_size"] > chosen]
    measured = {json.dumps(m["size"]): m["epochs"] for m in plan.measured}
    assert not bigger or measured.get(json.dumps(bigger[0]), 0.0) < MIN_CHILD_EPOCHS


def test_too_small_a_budget_says_so_and_the_users_hidden_size_is_kept(recording_costs) -> None:
    plan = _plan(120.0, recording_costs(hidden_cost(2e-6)))
    assert not plan.meaningful and plan.space_options == {"hidden_size": 32}
    assert "too little for the controller to learn" in plan.message
    kept = _plan(3600.0, recording_costs(hidden_cost(2e-6)), hidden_size=48)
    assert kept.space_options == {"hidden_size": 48}


def test_a_corpus_counts_its_sequences() -> None:
    data = load_task_data(LANGUAGE, CORPUS, seq_len=35)
    assert example_counts(data) == (data.train.numel() // 35, data.valid.numel() // 35)


def test_a_timed_nas_rl_rnn_scratch_search_is_planned_and_runs(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               recording_costs) -> None:
    costs = recording_costs(hidden_cost(1e-5))
    monkeypatch.setattr(plan_apply, "default_measure", lambda device, arch=None: costs)
    config = SearchConfig(space="nas-rl-rnn", data=str(CORPUS), evaluator="scratch", budget_seconds=20.0,
                          space_options={"leaves": 2}, device="cpu", archs_per_step=2, batch_size=4)
    sink = ListSink()
    result = run_search(config, tmp_path, sink=sink)
    assert result.status == "succeeded" and 0.0 < result.best_reward < 80.0
    plan = json.loads((tmp_path / "plan.json").read_text())
    share = 20.0 / (MIN_SCRATCH_STEPS * 2 + 1)
    assert plan["child_seconds"] == pytest.approx(max(share, MIN_CHILD_SECONDS), rel=1e-2)
    assert plan["space_options"] in language_ladder("nas-rl-rnn")
    assert [e.payload["details"] for e in sink.events if e.type == "plan"] == [plan]
    assert all(call.options["leaves"] == 2 for call in costs.calls)  # the user's options under the rung
