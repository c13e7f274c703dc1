"""The runner end to end on the NAS-Bench-201 table (seconds on a CPU, no training)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from webapp.searches.models import Search, SearchEvent
from webapp.searches.services import cancel_search, create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"


@pytest.fixture(autouse=True)
def _table(settings: Any) -> None:
    settings.NB201_TABLE = TABLE
    settings.NAS_DEVICE = "cpu"


@pytest.fixture(autouse=True)
def _no_pushes() -> Any:
    with mock.patch("webapp.searches.realtime.publish"):
        yield


def _benchmark_search(user, enqueued, budget: Any) -> Search:
    return create_search(user, {"space": "nb201", "controller": "reinforce", "evaluator": "benchmark",
                                "budget": budget, "controller_steps_per_epoch": 5})


def _events(search: Search) -> list[SearchEvent]:
    return list(SearchEvent.objects.filter(search=search).order_by("seq"))


def _claim_and_run(search: Search) -> str | None:
    claim = lease.claim(search.pk)
    assert claim.outcome == lease.CLAIMED
    return run_claimed_search(search.pk, claim.owner)


def test_a_benchmark_search_succeeds_with_a_gapless_event_stream(user, enqueued) -> None:
    search = _benchmark_search(user, enqueued, {"max_archs": 20})
    assert _claim_and_run(search) == Search.SUCCEEDED
    search.refresh_from_db()
    events = _events(search)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "finished" and events[-1].payload["status"] == "succeeded"
    assert [e.type for e in events].count("finished") == 1
    assert search.status == Search.SUCCEEDED and search.progress == 1.0 and search.last_seq == events[-1].seq
    assert search.best["reward"] > 80 and search.best["architecture"]["space"] == "nb201"
    assert events[-1].payload["best"]["reward"] == search.best["reward"]
    progress = [e.payload for e in events if e.type == "progress"]
    overall = [p["overall_fraction"] for p in progress]
    assert overall == sorted(overall) and overall[-1] == 1.0  # no final training: the search is the bar
    assert [p["archs_evaluated"] for p in progress][-1] == 20
    assert search.lease_owner == "" and search.finished_at is not None


def test_cancel_before_start(user, enqueued) -> None:
    search = _benchmark_search(user, enqueued, "10m")
    claim = lease.claim(search.pk)
    cancel_search(search)  # now running, so cooperative
    assert run_claimed_search(search.pk, claim.owner) == Search.CANCELLED
    events = _events(search)
    assert [e.type for e in events] == ["finished"] and events[0].payload["status"] == "cancelled"


def test_cancel_while_running_stops_within_seconds(user, enqueued, when) -> None:
    search = _benchmark_search(user, enqueued, "10m")
    cancelled_at: list[float] = []

    def cancel() -> None:
        Search.objects.filter(pk=search.pk).update(cancel_requested=True)
        cancelled_at.append(time.monotonic())
    when(lambda event: event.type == "controller_step", cancel)
    assert _claim_and_run(search) == Search.CANCELLED
    assert cancelled_at and time.monotonic() - cancelled_at[0] < 8
    events = _events(search)
    assert events[-1].type == "finished" and events[-1].payload["status"] == "cancelled"
    assert len(events) > 3  # it did run before the cancel


def _steal_after_a_checkpoint(search: Search, when: Any) -> None:
    """Another worker takes the lease two controller steps into the second epoch, so the first epoch's
    checkpoint is on disk (in the runner's own thread, right after the event is stored: see ``when``
    in conftest.py)."""
    def steal() -> None:
        Search.objects.filter(pk=search.pk).update(lease_owner="thief")
    when(lambda event: event.type == "controller_step" and event.payload["step"] >= 7, steal)


def test_a_lost_lease_stops_quietly_and_a_new_claim_resumes_without_duplicates(
    user, enqueued, settings, when
) -> None:
    settings.SEARCH_LEASE_SECONDS = 2  # heartbeat every ~1 s
    search = _benchmark_search(user, enqueued, "10m")
    _steal_after_a_checkpoint(search, when)
    assert _claim_and_run(search) is None  # gave the search up to its "new owner"
    search.refresh_from_db()
    assert search.status == Search.RUNNING and search.lease_owner == "thief"
    assert not SearchEvent.objects.filter(search=search, type="finished").exists()
    first_run = search.last_seq

    # the thief dies too; its lease runs out, and a new worker resumes from the checkpoint
    Search.objects.filter(pk=search.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    resumed_at: list[int] = []

    def cancel_after_a_step_of_its_own(event: Any) -> bool:
        if event.type == "status" and event.payload.get("resumed_after") is not None:
            resumed_at.append(event.seq)
        return bool(resumed_at) and event.type == "controller_step"
    when(cancel_after_a_step_of_its_own,
         lambda: Search.objects.filter(pk=search.pk).update(cancel_requested=True))
    assert _claim_and_run(search) == Search.CANCELLED
    events = _events(search)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("finished") == 1 and first_run > 0
    resumed = [e for e in events if e.type == "status" and "resumed" in e.payload.get("message", "")]
    assert len(resumed) == 1
    # the marker names the checkpoint: any events after it were dropped and are new (see the live page);
    # the worker that lost its lease wrote nothing more, so the stream can end right at the checkpoint
    assert resumed[0].payload["resumed_after"] == resumed[0].seq - 1 <= first_run
