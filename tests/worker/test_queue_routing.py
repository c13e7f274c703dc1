"""Queues by device class (issue 10 item 2): every enqueue path puts a search (and its children) on the
queue of the search's class, and a turn taken from a class's queue only ever claims a search of that class.

The router is Celery's own (``app.amqp.router``, which ``send_task`` applies); ``routed`` records the
queue it picks for each message instead of handing it to a broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from webapp.celery_app import app
from webapp.datasets.models import Dataset
from webapp.outbox.models import OutboxMessage
from webapp.outbox.services import send_pending
from webapp.searches.models import ChildRun, Search
from webapp.searches.services import queue_positions
from worker import dispatcher, lease
from worker.executor import _send as send_child
from worker.recovery import requeue_unfinished
from worker.scheduling import claim_for_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed() -> Any:
    """``(task, args, queue)`` of every message sent, the queue as Celery's router chose it."""
    sent: list[tuple[str, list[Any], str]] = []

    def record(name: str, args: list[Any], **_: Any) -> None:
        route = app.amqp.router.route({}, name, args, {})
        sent.append((name, list(args), route["queue"].name))

    with mock.patch("webapp.celery_app.app.send_task", side_effect=record):
        yield sent


def _search(owner: Any, device_class: str, minutes_old: int = 5, **fields: Any) -> Search:
    search = Search.objects.create(owner=owner, name=f"{device_class} run", config={},
                                   device_class=device_class, **fields)
    Search.objects.filter(pk=search.pk).update(created=timezone.now() - timedelta(minutes=minutes_old))
    return search


def test_the_router_picks_the_queue_of_the_search_class(user, routed) -> None:
    cpu, gpu = _search(user, "cpu"), _search(user, "gpu")
    for search_id in (cpu.pk, gpu.pk, 10**9):  # a missing row: a harmless cpu turn
        app.send_task("worker.tasks.run_search", [search_id])
        app.send_task("worker.tasks.run_child", [search_id, 0, 0, {}])
    app.send_task("worker.tasks.validate_dataset", [1])
    assert [queue for _, _, queue in routed] == ["searches.cpu", "children.cpu", "searches.gpu",
                                                  "children.gpu", "searches.cpu", "children.cpu", "datasets"]


def test_the_outbox_sends_each_search_to_its_class_queue(user, routed) -> None:
    cpu, gpu = _search(user, "cpu"), _search(user, "gpu")
    for search in (gpu, cpu):  # saved while the broker was down
        OutboxMessage.objects.create(task="worker.tasks.run_search", object_id=search.pk,
                                     created=timezone.now() - timedelta(minutes=1))
    assert send_pending(["worker.tasks.run_search"], older_than=2) == 2
    assert routed == [("worker.tasks.run_search", [gpu.pk], "searches.gpu"),
                      ("worker.tasks.run_search", [cpu.pk], "searches.cpu")]


def test_the_top_up_counts_and_fills_each_class_queue_apart(user, routed) -> None:
    gpu_queued = _search(user, "gpu")
    gpu_orphan = _search(user, "gpu", status=Search.RUNNING, lease_owner="gone:1:x",
                         lease_expires_at=timezone.now() - timedelta(minutes=2))
    _search(user, "cpu")
    waiting = {"searches.gpu": 0, "searches.cpu": 1}
    with mock.patch.object(dispatcher, "waiting_messages", side_effect=lambda _app, queue: waiting[queue]):
        assert dispatcher.top_up_searches(None, older_than=5.0, device_class="cpu") == 0  # its one is there
        assert dispatcher.top_up_searches(None, older_than=5.0, device_class="gpu") == 2
    assert routed == [("worker.tasks.run_search", [gpu_orphan.pk], "searches.gpu"),
                      ("worker.tasks.run_search", [gpu_queued.pk], "searches.gpu")]


def test_requeue_on_start_sends_only_the_classes_the_worker_serves(user, routed) -> None:
    _search(user, "cpu")
    gpu = _search(user, "gpu", status=Search.RUNNING, lease_owner="gone:1:x")
    Dataset.objects.create(owner=user, name="checking")  # validating: the datasets worker's job
    assert requeue_unfinished({"searches.gpu", "children.gpu"}) == (1, 0)
    assert routed == [("worker.tasks.run_search", [gpu.pk], "searches.gpu")]


def test_a_gpu_search_fans_its_children_out_on_the_gpu_children_queue(user, routed) -> None:
    gpu = _search(user, "gpu")
    row = ChildRun.objects.create(search=gpu, step=0, index=1, job_key="k", job={"kind": "scratch"})
    send_child(row)
    assert routed == [("worker.tasks.run_child", [gpu.pk, 0, 1, {"kind": "scratch"}], "children.gpu")]


def test_the_runner_pause_requeues_on_the_class_queue(user, routed) -> None:
    """``SearchRunner._release`` (a worker shutting down) enqueues by name like every other path."""
    from worker.runner import SearchRunner

    gpu = _search(user, "gpu")
    Search.objects.filter(pk=gpu.pk).update(config={"space": "nb201"})
    claim = lease.claim(gpu.pk)
    runner = SearchRunner(Search.objects.get(pk=gpu.pk), claim.owner, mock.Mock(lost=False), "gpu0@host")
    with mock.patch("worker.runner.Emitter"):
        assert runner._release() == "paused"
    assert routed == [("worker.tasks.run_search", [gpu.pk], "searches.gpu")]


def test_a_turn_from_one_class_never_claims_a_search_of_the_other(user, other_user) -> None:
    cpu_first = _search(user, "cpu", minutes_old=10)
    gpu = _search(other_user, "gpu")
    search_id, claim = claim_for_message(cpu_first.pk, device_class="gpu")  # a gpu worker's turn
    assert (search_id, claim.outcome) == (gpu.pk, lease.CLAIMED)
    assert claim_for_message(gpu.pk, device_class="gpu")[1].outcome == lease.BUSY  # its own lease, held
    assert claim_for_message(10**9, device_class="gpu")[1].outcome == lease.DONE  # no gpu search left
    assert Search.objects.get(pk=cpu_first.pk).status == Search.QUEUED
    search_id, claim = claim_for_message(gpu.pk, device_class="cpu")  # a stale cpu message naming it
    assert (search_id, claim.outcome) == (cpu_first.pk, lease.CLAIMED)


def test_queue_positions_count_within_the_class(user) -> None:
    cpu1, gpu1, cpu2 = _search(user, "cpu", 30), _search(user, "gpu", 20), _search(user, "cpu", 10)
    assert queue_positions([cpu1, gpu1, cpu2]) == {cpu1.pk: 1, cpu2.pk: 2, gpu1.pk: 1}
