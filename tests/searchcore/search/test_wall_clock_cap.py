"""A hard wall-clock ceiling whatever the budget (``Budget.ceiling_seconds``,
``run_search(wall_clock_cap=)``): the web service's 12-hour cap also holds a search bounded only by
counts (issue 11 item 1)."""

from __future__ import annotations

import time
from pathlib import Path

from searchcore.config import SearchConfig
from searchcore.search.budget import Budget
from searchcore.search.loop import run_search

TABLE = Path(__file__).resolve().parents[2] / "fixtures" / "nb201_cifar10.csv"


def test_a_count_budget_is_exhausted_at_the_ceiling_and_its_fraction_counts_the_time() -> None:
    budget = Budget(max_archs=1000, ceiling_seconds=10.0)
    budget.restart_clock(5.0)
    assert not budget.exhausted(0, 10) and 0.49 < budget.fraction(0, 10) < 0.6
    budget.restart_clock(10.0)
    assert budget.exhausted(0, 10) and budget.fraction(0, 10) == 1.0
    assert not Budget(max_archs=1000).exhausted(0, 10)  # no ceiling: counts alone


def test_a_search_bounded_only_by_counts_ends_at_the_cap(tmp_path: Path) -> None:
    config = SearchConfig(space="nb201", data=str(TABLE), evaluator="benchmark", controller="reinforce",
                          max_archs=15_000)  # hours of controller steps at this pace
    started = time.monotonic()
    result = run_search(config, tmp_path, wall_clock_cap=2.0)
    assert result.status == "succeeded" and 0 < result.archs_evaluated < 15_000
    assert time.monotonic() - started < 60  # the cap, plus derive and the table load
