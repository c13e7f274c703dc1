"""Interleaved controller steps and derive's reserve (issue 7, item 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.evaluators.shared import SharedEvaluator
from searchcore.events import ListSink
from searchcore.search.budget import Budget
from searchcore.search.loop import run_search
from searchcore.search.schedule import MAX_DERIVE_SHARE, ScoreTimer, controller_steps_due

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
REAL_TRAIN_STEP = SharedEvaluator._train_step


@pytest.mark.parametrize(("done", "total", "per_epoch", "due"), [
    (0, 5, 10, 0), (1, 5, 10, 2), (3, 5, 10, 6), (5, 5, 10, 10),  # more controller than training steps
    (1, 10, 3, 0), (4, 10, 3, 1), (7, 10, 3, 2), (10, 10, 3, 3),  # fewer
    (12, 10, 3, 3), (0, 0, 4, 4),  # never more than the epoch's; no training steps: all at once
])
def test_controller_steps_are_spread_evenly_and_all_run_by_the_epochs_end(done: int, total: int,
                                                                          per_epoch: int, due: int) -> None:
    assert controller_steps_due(done, total, per_epoch) == due


def test_score_timer_reserves_what_derive_costs_within_a_cap() -> None:
    timer = ScoreTimer()
    assert timer.reserve(16, 10, 100.0) == 0.0  # nothing measured yet
    assert timer.affordable_samples(100.0, 16, 10) == 1  # cost unknown: the fewest, not all 16
    assert timer.affordable_samples(None, 16, 10) == 16  # no time budget: as asked
    timer.add(0.2, 2)  # 0.1 s per reward minibatch
    assert timer.derive_seconds(16, 10) == pytest.approx((16 + 2) * 10 * 0.1)
    assert timer.reserve(16, 10, 100.0) == pytest.approx(18.0)
    assert timer.reserve(16, 10, 50.0) == pytest.approx(50.0 * MAX_DERIVE_SHARE)
    assert timer.reserve(16, 10, None) == 0.0
    # with 5 s left, (5 / 1.0) - 2 always-scored = 3 sampled candidates; never below 1 or above asked
    assert timer.affordable_samples(5.0, 16, 10) == 3
    assert timer.affordable_samples(-1.0, 16, 10) == 1
    assert timer.affordable_samples(1000.0, 16, 10) == 16
    assert timer.affordable_samples(None, 16, 10) == 16


def test_budget_keeps_its_reserve_out_of_the_search_phase() -> None:
    budget = Budget(seconds=100.0)
    budget.restart_clock(70.0)
    assert not budget.exhausted(0, 0)
    budget.reserve_seconds = 30.0
    assert budget.exhausted(0, 0) and budget.fraction(0, 0) == 1.0
    assert budget.eta(1.0) == pytest.approx(30.0)  # the ETA still runs to the whole budget
    assert 29.0 < budget.seconds_left() <= 30.0


def _order_of_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schedule: str) -> list[str]:
    """'T' per supernet training step and 'C' per controller step, in the order they ran."""
    order: list[str] = []
    def train_step(self: SharedEvaluator, *args: Any) -> Any:
        order.append("T")
        return REAL_TRAIN_STEP(self, *args)

    class OrderSink(ListSink):
        def emit(self, event: Any) -> None:
            super().emit(event)
            if event.type == "controller_step":
                order.append("C")

    monkeypatch.setattr(SharedEvaluator, "_train_step", train_step)
    config = SearchConfig(space="nb201", data=str(TINY), space_options={"channels": 4, "cells_per_stage": 1},
                          evaluator="shared", controller="reinforce", max_epochs=1, image_size=16,
                          batch_size=16, controller_steps_per_epoch=4, derive_samples=1, device="cpu",
                          controller_schedule=schedule)
    run_search(config, tmp_path / schedule, sink=OrderSink())
    return order


def test_interleaved_controller_steps_run_inside_the_first_epoch(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    interleaved = _order_of_steps(tmp_path, monkeypatch, "interleaved")
    per_epoch = _order_of_steps(tmp_path, monkeypatch, "per_epoch")
    train_steps = per_epoch.count("T")
    assert train_steps >= 4 and interleaved.count("T") == train_steps
    assert interleaved.count("C") == per_epoch.count("C") == 4
    # ENAS order: every controller step after the epoch's training; interleaved: the first one
    # after the first quarter of it, and training steps still to come after the last one but one
    assert per_epoch == ["T"] * train_steps + ["C"] * 4
    first_c = interleaved.index("C")
    assert first_c <= -(-train_steps // 4)
    assert "T" in interleaved[first_c:]
