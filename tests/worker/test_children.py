"""Fanned-out scratch children (issue 10 item 1) without a broker: the rows, the claim, the executor.

The real `children` workers are in tests/reliability/test_fanout.py; here a sent child runs at once in
this process (``worker.children.run_child``, what the task calls), so the rows, idempotency, the retry
cap and the executor's bookkeeping are checked in seconds.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from searchcore.evaluators.executor import Job
from webapp.searches.models import ChildRun, Search, SearchEvent
from webapp.searches.services import create_search
from worker import children, lease
from worker.executor import CeleryExecutor, ChildFailed, job_key
from worker.runner import run_claimed_search

pytestmark = [pytest.mark.django_db(transaction=True)]

CONFIG = {"space": "nas-rl-cnn", "controller": "reinforce", "evaluator": "scratch",
          "space_options": {"num_layers": 2, "channels": 8, "filter_counts": ["24"]},
          "evaluator_options": {"child_epochs": 1, "batch_size": 16},
          "archs_per_step": 2, "budget": {"seconds": 600, "max_archs": 4}, "image_size": 8, "seed": 5,
          "final_budget": {"epochs": 1}}


@pytest.fixture(autouse=True)
def _cpu(cpu_no_pushes: Any) -> Any:
    return cpu_no_pushes


def run_here(row: ChildRun) -> None:
    """The executor's ``send``: the child task's work, now, in this process."""
    children.run_child(row.search_id, row.step, row.index, row.job, worker_name="children-test@here")


def rewards(search: Search) -> list[float]:
    return [e.payload["reward"] for e in SearchEvent.objects.filter(search=search, type="arch_sampled")
            .order_by("seq")]


def run(search: Search) -> str | None:
    claim = lease.claim(search.pk)
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        return run_claimed_search(search.pk, claim.owner)


@pytest.mark.slow
def test_fanned_out_search_scores_like_in_process_and_reports_each_child(user, images, enqueued,
                                                                         settings) -> None:
    local = create_search(user, {"dataset": images.pk, **CONFIG})
    assert run(local) == Search.SUCCEEDED
    assert not ChildRun.objects.filter(search=local).exists()  # CHILDREN_FANOUT off: in process

    settings.CHILDREN_FANOUT = "on"
    fanned = create_search(user, {"dataset": images.pk, **CONFIG})
    with mock.patch("worker.executor._send", side_effect=run_here) as send:
        assert run(fanned) == Search.SUCCEEDED
    rows = list(ChildRun.objects.filter(search=fanned))
    assert send.call_count == len(rows) >= 2
    assert all(r.state == ChildRun.DONE and r.attempts == 1 and r.worker_name == "children-test@here"
               for r in rows)
    assert rewards(fanned) == rewards(local) and len(rewards(local)) >= 2  # same controller trajectory

    events = [e.payload for e in SearchEvent.objects.filter(search=fanned, type="child").order_by("seq")]
    assert {(e["step"], e["index"]) for e in events} == {(r.step, r.index) for r in rows}
    done = [e for e in events if e["state"] == "done"]
    assert len(done) == len(rows) and all(e["worker"] == "children-test@here" and e["reward"] is not None
                                          for e in done)


def make_row(search: Search, state: str = ChildRun.PENDING, **fields: Any) -> ChildRun:
    job = Job("scratch", {"space": "x"}, {"seed": 1}).to_dict()
    return ChildRun.objects.create(search=search, step=0, index=0, job_key=job_key(job), job=job,
                                   state=state, **fields)


@pytest.fixture
def search(user: Any, images: Any) -> Search:
    found = create_search(user, {"dataset": images.pk, **CONFIG})
    Search.objects.filter(pk=found.pk).update(status=Search.RUNNING)
    return found


def test_a_redelivered_child_that_is_done_is_not_trained_again(search) -> None:
    row = make_row(search, ChildRun.DONE, metrics={"reward": 0.5}, attempts=1)
    with mock.patch("searchcore.evaluators.executor.run_job", side_effect=AssertionError("trained again")):
        assert children.run_child(search.pk, 0, 0, row.job) == ChildRun.DONE
    row.refresh_from_db()
    assert row.attempts == 1 and row.metrics == {"reward": 0.5}


def test_a_child_held_by_a_live_worker_is_left_to_it(search) -> None:
    make_row(search, ChildRun.RUNNING, worker=lease.new_owner(), heartbeat_at=timezone.now(), attempts=1)
    row = ChildRun.objects.get(search=search)
    assert children.claim(row, lease.new_owner()) == "busy"
    assert ChildRun.objects.get(pk=row.pk).attempts == 1


def dead_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    host = lease.new_owner().split(":")[0]
    return f"{host}:{process.pid}:deadbeef"


def test_a_child_whose_worker_died_is_retried_then_fails_the_search_at_the_cap(search, settings) -> None:
    settings.CHILD_MAX_ATTEMPTS = 2
    row = make_row(search, ChildRun.RUNNING, worker=dead_owner(), heartbeat_at=timezone.now(), attempts=1)
    assert children.claim(row, lease.new_owner(), "children2@here") == "claimed"  # the retry
    row.refresh_from_db()
    assert (row.state, row.attempts, row.worker_name) == (ChildRun.RUNNING, 2, "children2@here")

    ChildRun.objects.filter(pk=row.pk).update(worker=dead_owner())  # that worker died too
    row.refresh_from_db()
    assert children.claim(row, lease.new_owner()) == ChildRun.FAILED
    row.refresh_from_db()
    assert row.state == ChildRun.FAILED and "stopped 2 times" in row.message
    executor = CeleryExecutor(search.pk, poll=0.01, send=lambda row: None)
    with pytest.raises(ChildFailed, match="stopped 2 times"):
        executor.wait(executor.submit([Job.from_dict(row.job)]), should_stop=lambda: False)


def test_a_child_of_a_cancelled_search_is_not_trained(search) -> None:
    row = make_row(search)
    Search.objects.filter(pk=search.pk).update(cancel_requested=True)
    assert children.run_child(search.pk, 0, 0, row.job) == ChildRun.CANCELLED


def test_submit_again_finds_the_rows_and_sends_only_what_is_not_done(search) -> None:
    jobs = [Job("scratch", {"space": "x", "n": n}, {"seed": 1}) for n in range(3)]
    sent: list[ChildRun] = []
    executor = CeleryExecutor(search.pk, poll=0.01, send=sent.append)
    ticket = executor.submit(jobs)
    assert [(r.step, r.index) for r in sent] == [(0, 0), (0, 1), (0, 2)]
    ChildRun.objects.filter(search=search, index__lt=2).update(state=ChildRun.DONE, metrics={"reward": 0.25})
    progress: list[float] = []
    assert executor.wait(ticket, should_stop=lambda: True, on_progress=progress.append) is None  # one missing
    assert progress == [pytest.approx(2 / 3)]

    sent.clear()  # a resumed coordinator: the same jobs plus a new one
    resumed = CeleryExecutor(search.pk, poll=0.01, send=sent.append)
    ticket = resumed.submit([*jobs, Job("scratch", {"space": "x", "n": 9}, {"seed": 1})])
    assert [(r.step, r.index) for r in sent] == [(0, 2), (1, 0)]  # only the missing ones; new: a new step
    ChildRun.objects.filter(search=search).update(state=ChildRun.DONE, metrics={"reward": 0.5})
    assert resumed.wait(ticket, should_stop=lambda: False) == [{"reward": 0.5}] * 4
    assert ChildRun.objects.filter(search=search).count() == 4


def test_a_child_whose_job_raises_fails_with_its_reason(search) -> None:
    job = Job("scratch", {"space": "nas-rl-cnn"}, {"seed": 1, "bogus": True}).to_dict()
    row = ChildRun.objects.create(search=search, step=0, index=0, job_key=job_key(job), job=job)
    assert children.run_child(search.pk, 0, 0, job) == ChildRun.FAILED
    row.refresh_from_db()
    assert row.state == ChildRun.FAILED and "unknown scratch job setting(s): bogus" in row.message
    executor = CeleryExecutor(search.pk, poll=0.01, send=lambda row: None)
    with pytest.raises(ChildFailed, match="bogus"):
        executor.wait(executor.submit([Job.from_dict(job)]), should_stop=lambda: False)


@pytest.mark.slow
def test_a_restarted_coordinator_takes_the_children_already_done_and_sends_none(user, images, enqueued,
                                                                                settings) -> None:
    import shutil

    settings.CHILDREN_FANOUT = "on"
    search = create_search(user, {"dataset": images.pk, **CONFIG})
    with mock.patch("worker.executor._send", side_effect=run_here):
        assert run(search) == Search.SUCCEEDED
    first = rewards(search)
    trained = {r.pk: r.finished_at for r in ChildRun.objects.filter(search=search)}
    # the coordinator's process and folder are gone (checkpoint too): it starts the search again
    shutil.rmtree(search.directory)
    Search.objects.filter(pk=search.pk).update(status=Search.QUEUED, lease_owner="", lease_expires_at=None,
                                               attempts=0, progress=0.0)
    with mock.patch("worker.executor._send", side_effect=AssertionError("a done child was sent again")):
        assert run(search) == Search.SUCCEEDED
    assert rewards(search)[-len(first):] == first
    assert {r.pk: r.finished_at for r in ChildRun.objects.filter(search=search)} == trained  # none retrained


@pytest.mark.slow
def test_with_no_children_worker_left_the_search_trains_its_children_itself(user, images, enqueued,
                                                                           settings) -> None:
    settings.CHILDREN_FANOUT = "on"
    settings.CHILD_STALE_SECONDS = 1
    search = create_search(user, {"dataset": images.pk, **CONFIG})
    with mock.patch("worker.executor._send") as send, \
            mock.patch("worker.executor.children_workers", return_value=[]) as ping:
        assert run(search) == Search.SUCCEEDED  # every message lost, no worker answers: no hang
    rows = list(ChildRun.objects.filter(search=search))
    assert send.call_count == len(rows) >= 2 and ping.called
    assert all(r.state == ChildRun.DONE and r.worker_name.startswith("in-search@") for r in rows)
    assert len(rewards(search)) >= 2
