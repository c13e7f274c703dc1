"""Budget planning of a language search and its final training (issue 9): with injected step costs
the plan fits the budget, meets the minimums and keeps the largest hidden size that does; too small
a budget says so with the smallest budget that would do; a real timed search plans itself."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore import FinalConfig, train_final
from searchcore.config import SearchConfig
from searchcore.events import ListSink
from searchcore.planning import MIN_CONTROLLER_STEPS
from searchcore.planning.language import (
    CHILD_HIDDEN,
    MIN_LM_FINAL_EPOCHS,
    MIN_LM_FINAL_STEPS,
    MIN_LM_SEARCH_EPOCHS,
    PROXY_HIDDEN,
    plan_language_final,
    plan_language_search,
    planned_lm_batch,
    steps_per_pass,
)
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec, create_space

TASK = TaskSpec.language(10_000, 35)
CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"
TOKENS = {"train_tokens": 2_000_000, "valid_tokens": 200_000}  # about WikiText-2


def fake_cost(unit: float = 1e-6) -> Any:
    """A step costs a fixed softmax part plus a part growing with hidden²."""
    def cost(options: dict[str, Any], supernet: bool, batch: int) -> tuple[float, float]:
        per_64 = unit * (20_000 + options.get("hidden_size", 200) ** 2) * (2 if supernet else 1)
        return per_64 * batch / 64, per_64 * batch / 192

    return cost


def _search(budget: float, costs: Any, **kw: Any) -> Any:
    args = {**TOKENS, "batch_size": None, "controller_steps_per_epoch": 30, "derive_samples": 16, **kw}
    options = args.pop("space_options", {})
    return plan_language_search("enas-rnn", options, TASK, budget_seconds=budget, measure=costs, **args)


@pytest.mark.parametrize("budget", [1800.0, 3 * 3600.0])
def test_a_search_plan_fits_meets_the_minimums_and_is_the_largest_hidden_size_that_does(budget,
                                                                                      recording_costs):
    costs = recording_costs(fake_cost())
    plan = _search(budget, costs)
    needed = max(MIN_LM_SEARCH_EPOCHS, math.ceil(MIN_CONTROLLER_STEPS / 30))
    assert plan.meaningful and plan.epochs >= needed and plan.controller_steps >= MIN_CONTROLLER_STEPS
    assert plan.epochs * plan.seconds_per_epoch + plan.derive_seconds <= budget * 1.001
    assert plan.batch_size == 64 and all(call.supernet and call.batch == 64 for call in costs.calls)
    chosen = PROXY_HIDDEN.index(plan.space_options["hidden_size"])
    if chosen + 1 < len(PROXY_HIDDEN):  # the next size up did not fit
        bigger = recording_costs(fake_cost())
        assert not _search(budget, bigger, space_options={"hidden_size": PROXY_HIDDEN[chosen + 1]}).meaningful
    steps = steps_per_pass(TOKENS["train_tokens"], 64, 35)
    assert plan.measured[0]["tokens_per_epoch"] == steps * 64 * 35 and plan.measured[0]["bptt"] == 35
    assert f"{steps * 64 * 35:,} training tokens" in plan.message and "BPTT 35" in plan.message


def test_a_budget_too_small_says_so_and_proposes_the_smallest_that_can(recording_costs):
    costs = recording_costs(fake_cost())
    plan = _search(120.0, costs)
    assert not plan.meaningful and plan.space_options == {"hidden_size": PROXY_HIDDEN[0]}
    assert "too little for the controller to learn" in plan.message
    minutes = math.ceil(plan.minimum_budget_seconds / 60)
    assert f"Give the search at least {minutes} min." in plan.message
    enough = _search(plan.minimum_budget_seconds * 1.05, recording_costs(fake_cost()))
    assert enough.meaningful  # the proposed budget does buy the minimums


def test_the_users_hidden_size_and_batch_are_kept(recording_costs):
    costs = recording_costs(fake_cost())
    plan = _search(3600.0, costs, space_options={"hidden_size": 96}, batch_size=20)
    assert plan.space_options == {"hidden_size": 96} and plan.batch_size == 20
    assert {(call.options["hidden_size"], call.batch) for call in costs.calls} == {(96, 20)}


def test_a_small_corpus_gets_fewer_streams_not_fewer_steps():
    assert planned_lm_batch(1109, 35, None) == 3 and planned_lm_batch(2_000_000, 35, None) == 64
    assert planned_lm_batch(1109, 35, 7) == 7


def test_the_final_plan_buys_its_minimum_epochs_or_says_what_would(recording_costs):
    costs = recording_costs(fake_cost())
    plan = plan_language_final("enas-rnn", {}, TASK, **TOKENS, budget_seconds=2 * 3600.0, batch_size=None,
                               given={}, measure=costs)
    assert plan.meaningful and plan.epochs >= MIN_LM_FINAL_EPOCHS
    assert plan.overrides["hidden_size"] in CHILD_HIDDEN
    assert not any(call.supernet for call in costs.calls)  # the child is measured
    short = plan_language_final("enas-rnn", {}, TASK, **TOKENS, budget_seconds=5.0, batch_size=None,
                                given={}, measure=recording_costs(fake_cost()))
    assert not short.meaningful and short.overrides == {"hidden_size": CHILD_HIDDEN[0]}
    assert f"(it needs {MIN_LM_FINAL_EPOCHS} epochs or {MIN_LM_FINAL_STEPS} steps)" in short.message
    assert "Give final training at least" in short.message
    kept = plan_language_final("enas-rnn", {}, TASK, **TOKENS, budget_seconds=30.0, batch_size=None,
                               given={"hidden_size": 500}, measure=recording_costs(fake_cost()))
    assert kept.overrides == {"hidden_size": 500}


def test_on_a_large_corpus_the_final_plan_buys_steps_of_a_larger_model_not_passes_of_a_tiny_one(
        recording_costs):
    """WikiText-2 on a slow CPU: 20 minutes buy about one pass of hidden 200 (~1,000 steps) and 3 passes
    of hidden 32; the epochs rule alone kept 32 and called it too little, the steps rule keeps 200
    (bench.language: 210 against 294 test perplexity for the same 20 minutes)."""
    slow = fake_cost(unit=2e-5)  # hidden 200: 1.2 s a step of 64 x 35 tokens
    plan = plan_language_final("enas-rnn", {}, TASK, **TOKENS, budget_seconds=1200.0, batch_size=None,
                               given={}, measure=recording_costs(slow))
    steps = plan.epochs * steps_per_pass(TOKENS["train_tokens"], plan.batch_size, TASK.seq_len)
    assert plan.meaningful and plan.overrides == {"hidden_size": 200}
    assert plan.epochs < MIN_LM_FINAL_EPOCHS and steps >= MIN_LM_FINAL_STEPS
    said = re.search(r"\(([\d,]+) steps\)", plan.message)
    assert said and abs(int(said.group(1).replace(",", "")) - steps) < 10, plan.message
    tiny = plan_language_final("enas-rnn", {}, TASK, train_tokens=1109, valid_tokens=100, budget_seconds=4.0,
                               batch_size=None, given={}, measure=recording_costs(fake_cost()))
    assert tiny.epochs >= MIN_LM_FINAL_EPOCHS  # a pass of 8 steps: passes are still the bar


def test_a_timed_language_search_and_its_final_training_plan_themselves(tmp_path):
    sink = ListSink()
    config = SearchConfig(space="enas-rnn", data=str(CORPUS), evaluator="shared", controller="reinforce",
                          budget_seconds=8.0, controller_steps_per_epoch=2, derive_samples=1,
                          space_options={"num_nodes": 3}, device="cpu")
    result = run_search(config, tmp_path / "search", sink=sink)
    plans = [e.payload for e in sink.events if e.type == "plan"]
    assert len(plans) == 1 and plans[0]["phase"] == "search", plans
    stored = json.loads((tmp_path / "search" / "plan.json").read_text())
    assert stored["batch_size"] == 3  # 1,109 training tokens: 3 streams keep 8 steps per pass
    assert stored["space_options"]["hidden_size"] in PROXY_HIDDEN
    assert result.status == "succeeded"

    space = create_space("enas-rnn", num_nodes=3)
    arch = space.arch_to_json(space.sample_random(torch.Generator().manual_seed(0)))
    final = ListSink()
    train_final(FinalConfig(arch=arch, data=str(CORPUS), budget_seconds=6.0, space_options={"num_nodes": 3},
                            hidden_size=24), tmp_path / "final", sink=final)
    plan = next(e.payload for e in final.events if e.type == "plan")
    assert plan["phase"] == "final" and plan["details"]["overrides"] == {"hidden_size": 24}  # the user's size
    cfg = json.loads((tmp_path / "final" / "train_config.json").read_text())
    assert cfg["batch_size"] == 3 and cfg["child_overrides"]["hidden_size"] == 24
