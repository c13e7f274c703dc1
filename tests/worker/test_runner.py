"""The runner end to end on the NAS-Bench-201 table (seconds on a CPU, no training)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
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


def _update_later(delay: float, search: Search, **fields: Any) -> threading.Thread:
    """Another process's write, ``delay`` s from now. The test database is SQLite in shared-cache
    memory mode, where a write that meets the runner's open transaction fails at once with "table is
    locked" (no busy wait), so it is retried until it lands, as a real client would."""

    def write() -> None:
        time.sleep(delay)
        deadline = time.monotonic() + 30
        while True:
            try:
                Search.objects.filter(pk=search.pk).update(**fields)
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


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


def test_cancel_while_running_stops_within_seconds(user, enqueued) -> None:
    search = _benchmark_search(user, enqueued, "10m")
    _update_later(1.0, search, cancel_requested=True)
    started = time.monotonic()
    assert _claim_and_run(search) == Search.CANCELLED
    assert time.monotonic() - started < 8
    events = _events(search)
    assert events[-1].type == "finished" and events[-1].payload["status"] == "cancelled"
    assert len(events) > 3  # it did run before the cancel


def test_a_lost_lease_stops_quietly_and_a_new_claim_resumes_without_duplicates(
    user, enqueued, settings
) -> None:
    settings.SEARCH_LEASE_SECONDS = 2  # heartbeat every ~1 s
    search = _benchmark_search(user, enqueued, "10m")
    _update_later(1.5, search, lease_owner="thief")
    assert _claim_and_run(search) is None  # gave the search up to its "new owner"
    search.refresh_from_db()
    assert search.status == Search.RUNNING and search.lease_owner == "thief"
    assert not SearchEvent.objects.filter(search=search, type="finished").exists()
    first_run = search.last_seq

    # the thief dies too; its lease runs out, and a new worker resumes from the checkpoint
    Search.objects.filter(pk=search.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    _update_later(1.5, search, cancel_requested=True)
    assert _claim_and_run(search) == Search.CANCELLED
    events = _events(search)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("finished") == 1 and first_run > 0
    resumed = [e for e in events if e.type == "status" and "resumed" in e.payload.get("message", "")]
    assert len(resumed) == 1
    # the marker names the checkpoint: any events after it were dropped and are new (see the live page);
    # the worker that lost its lease wrote nothing more, so the stream can end right at the checkpoint
    assert resumed[0].payload["resumed_after"] == resumed[0].seq - 1 <= first_run
