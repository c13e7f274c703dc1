"""A worker shutting down pauses its search at the next step and gives it back (issue 11 item 6).

In-process: ``worker.shutdown.request()`` is what the pause signal's handler does in a pool child.
The real-process path (SIGTERM to a Celery worker) is ``tests/reliability/test_worker_shutdown.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from webapp.searches.models import Search, SearchEvent
from webapp.searches.services import create_search
from worker import lease, shutdown
from worker.runner import PAUSED, run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"


@pytest.fixture(autouse=True)
def _setup(settings: Any, cpu_no_pushes: Any) -> Iterator[None]:
    settings.NB201_TABLE = TABLE
    shutdown.clear()
    yield
    shutdown.clear()


def _events(search: Search) -> list[SearchEvent]:
    return list(SearchEvent.objects.filter(search=search).order_by("seq"))


def _step(n: int) -> Callable[[Any], bool]:
    """The event of controller step ``n`` (steps are numbered across resumes)."""
    return lambda event: event.type == "controller_step" and event.payload["step"] >= n


def _claim_and_run(search: Search) -> str | None:
    claim = lease.claim(search.pk)
    assert claim.outcome == lease.CLAIMED
    return run_claimed_search(search.pk, claim.owner)


def test_a_shutdown_pauses_the_search_between_steps_and_the_next_worker_continues_it(user, enqueued,
                                                                                   when) -> None:
    search = create_search(user, {"space": "nb201", "controller": "reinforce", "evaluator": "benchmark",
                                  "budget": "10m", "controller_steps_per_epoch": 1000})  # one long epoch
    enqueued.clear()
    when(_step(5), shutdown.request)
    started = time.monotonic()
    assert _claim_and_run(search) == PAUSED
    assert time.monotonic() - started < 60  # not the 10 minutes of its budget
    search.refresh_from_db()
    assert search.status == Search.RUNNING and search.phase == PAUSED and "Paused" in search.message
    assert search.lease_owner == "" and search.lease_expires_at < timezone.now()  # claimable at once
    assert search.attempts == 0  # a clean shutdown is no failed attempt
    assert enqueued == [("worker.tasks.run_search", [search.pk])]
    first = _events(search)
    assert first[-1].type == "status" and first[-1].payload["status"] == PAUSED
    paused_at = max(e.payload["step"] for e in first if e.type == "controller_step")
    assert paused_at >= 5 and not any(e.type == "finished" for e in first)

    shutdown.clear()  # the next worker
    when(_step(paused_at + 3), lambda: Search.objects.filter(pk=search.pk).update(cancel_requested=True))
    assert _claim_and_run(search) == Search.CANCELLED
    events = _events(search)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    resumed = [e for e in events if e.type == "status" and e.payload.get("resumed_after")]
    assert len(resumed) == 1
    # checkpointed at the pause (mid-epoch): the steps go on from there, none redone, none lost
    steps = [e.payload["step"] for e in events if e.type == "controller_step"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) > paused_at
    assert resumed[0].payload["resumed_after"] == resumed[0].seq - 1
    before = [e.payload["step"] for e in events[:resumed[0].seq] if e.type == "controller_step"]
    assert before[-1] == paused_at
    search.refresh_from_db()
    assert search.attempts == 1 and search.status == Search.CANCELLED


def test_a_cancel_wins_over_a_shutdown(user, enqueued, when) -> None:
    search = create_search(user, {"space": "nb201", "controller": "reinforce", "evaluator": "benchmark",
                                  "budget": "10m", "controller_steps_per_epoch": 1000})
    enqueued.clear()

    def both() -> None:
        Search.objects.filter(pk=search.pk).update(cancel_requested=True, status=Search.CANCELLING)
        shutdown.request()

    when(_step(3), both)
    assert _claim_and_run(search) == Search.CANCELLED
    assert enqueued == []
    assert _events(search)[-1].type == "finished"


def test_a_shutdown_during_final_training_pauses_it_and_the_rerun_trains_again(user, images,
                                                                              enqueued, when) -> None:
    main = create_search(user, {
        "dataset": images.pk, "space": "nb201", "space_options": {"channels": 4, "cells_per_stage": 1},
        "evaluator": "shared", "budget": {"seconds": 3, "max_archs": 20}, "image_size": 16,
        "final_budget": {"seconds": 3}, "final": {"cells_per_stage": 1}, "controls": True})
    search = main.controls.get(role="baseline")  # final training only: the ResNet-20 control
    enqueued.clear()
    when(lambda event: event.type == "status" and event.payload.get("status") == "training", shutdown.request)
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        assert _claim_and_run(search) == PAUSED
        search.refresh_from_db()
        assert (search.status, search.phase, search.attempts) == (Search.RUNNING, PAUSED, 0)
        assert enqueued == [("worker.tasks.run_search", [search.pk])]
        assert not (search.directory / "package.zip").exists()
        shutdown.clear()
        assert _claim_and_run(search) == Search.SUCCEEDED
    events = _events(search)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("finished") == 1 and events[-1].payload["status"] == "succeeded"
    assert PAUSED not in [e.payload.get("status") for e in events if e.type == "status"]  # rewound
    assert (search.directory / "package.zip").exists()
