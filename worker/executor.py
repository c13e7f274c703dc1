"""The Celery executor: a search's scratch children trained by `children.<class>` workers (issue 10).

``submit`` writes one ``ChildRun`` row per job (or finds it: rows are unique per search and job key,
so a coordinator resumed from its checkpoint, which samples the same architectures again, finds the
children already trained) and sends ``worker.tasks.run_child`` for every row not done. ``wait`` polls
the rows: it returns their metrics in job order, ``None`` when ``should_stop()`` says stop (a pause
leaves the children training; their rows are there for the resumed run), raises ``ChildFailed`` when a
child failed (its error, or its workers died ``CHILD_MAX_ATTEMPTS`` times), reports the batch's share
done, sends again a child whose worker stopped heartbeating (a machine that vanished: its message may
sit unacknowledged in Redis for hours), trains the waiting children itself when no children worker
answers a ping after ``CHILD_STALE_SECONDS`` (none left: the search never waits forever), and emits a
``child`` event whenever a child's state, worker or progress changes (through the search loop's
emitter: ``attach_emitter``).

Why no deadlock at concurrency 1: the coordinating search holds its `searches` worker slot while it
waits, but its children never need that slot: they run on the separate `children` queue, served by
their own workers (``scripts/run.sh``, ``tests/stack.py``). See docs/architecture.md (fan-out).
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from searchcore.evaluators.executor import Job, Metrics, Progress, Ticket
from webapp.celery_app import CPU, app, children_queue, enqueue
from webapp.searches.models import ChildRun
from worker import children
from worker.lease import new_owner

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
PROGRESS_EVENT_SECONDS = 2.0  # a running child's progress event at most this often
CHILD_TASK = "worker.tasks.run_child"


class ChildFailed(ValueError):
    """A child could not be trained; its message is written for the user (the search fails with it)."""


def job_key(job: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(job, sort_keys=True).encode(), digest_size=16).hexdigest()


class CeleryExecutor:
    """``searchcore``'s ``Executor`` for one search, over the `children` queue."""

    def __init__(self, search_id: int, poll: float = POLL_SECONDS,
                 send: Callable[[ChildRun], None] | None = None, device_class: str = CPU) -> None:
        self.search_id = search_id
        self.device_class = device_class
        self.poll = poll
        self.send = send or _send
        self.emitter: Any = None
        self._seen: dict[int, tuple[Any, float]] = {}  # row id -> what its last child event said
        self._event_at: dict[int, float] = {}

    def attach_emitter(self, emitter: Any) -> None:
        """The search loop's emitter (called by the loop): ``child`` events join the search's stream."""
        self.emitter = emitter

    # -- Executor ---------------------------------------------------------------------------------
    def submit(self, jobs: Sequence[Job]) -> Ticket:
        payloads = [job.to_dict() for job in jobs]
        rows = self._rows_for(payloads)
        for row in rows:
            if row.state == ChildRun.CANCELLED:  # stopped by an earlier cancel that did not end the search
                ChildRun.objects.filter(pk=row.pk, state=ChildRun.CANCELLED).update(state=ChildRun.PENDING)
                row.state = ChildRun.PENDING
            if row.state == ChildRun.PENDING or (row.state == ChildRun.RUNNING and _stale(row)):
                self.send(row)
        self._seen.clear()
        return Ticket(size=len(rows), handle=[row.pk for row in rows])

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool],
             on_progress: Progress | None = None) -> list[Metrics] | None:
        ids: list[int] = list(ticket.handle)
        resent: dict[int, float] = {}
        last_share = -1.0
        orphan_check = time.monotonic() + settings.CHILD_STALE_SECONDS
        while True:
            rows = {row.pk: row for row in ChildRun.objects.filter(pk__in=ids)}
            self._emit_changes([rows[i] for i in ids])
            failed = [rows[i] for i in ids if rows[i].state == ChildRun.FAILED]
            if failed:
                raise ChildFailed(failed[0].message or f"child {failed[0].index + 1} failed")
            if all(rows[i].state == ChildRun.DONE for i in ids):
                return [dict(rows[i].metrics or {}) for i in ids]
            share = sum(1.0 if rows[i].state == ChildRun.DONE else rows[i].progress for i in ids) / len(ids)
            if on_progress is not None and share != last_share:
                on_progress(share)
                last_share = share
            self._resend_stale(rows.values(), resent)
            if should_stop():
                return None
            if time.monotonic() >= orphan_check:  # nobody left to train them: do it here
                orphan_check = time.monotonic() + settings.CHILD_STALE_SECONDS
                self._adopt_orphans([rows[i] for i in ids], should_stop)
                continue
            time.sleep(self.poll)

    # -- rows -------------------------------------------------------------------------------------
    def _rows_for(self, payloads: list[dict[str, Any]]) -> list[ChildRun]:
        """The rows of these jobs, in order: found by key, the missing ones created as a new step."""
        keys = [job_key(p) for p in payloads]
        with transaction.atomic():
            found = {row.job_key: row for row in ChildRun.objects.filter(search_id=self.search_id,
                                                                         job_key__in=keys)}
            missing = [(k, p) for k, p in zip(keys, payloads, strict=True) if k not in found]
            if missing:
                last = ChildRun.objects.filter(search_id=self.search_id).aggregate(m=Max("step"))["m"]
                step = 0 if last is None else last + 1
                for index, (key, payload) in enumerate(missing):
                    found[key] = ChildRun.objects.create(search_id=self.search_id, step=step, index=index,
                                                         job_key=key, job=payload)
        return [found[k] for k in keys]

    def _resend_stale(self, rows: Any, resent: dict[int, float]) -> None:
        """A running child whose worker stopped heartbeating is sent again (the claim takes it over)."""
        now = time.monotonic()
        for row in rows:
            if row.state == ChildRun.RUNNING and _stale(row) and now - resent.get(row.pk, -1e9) > \
                    settings.CHILD_STALE_SECONDS:
                logger.warning("%s: no heartbeat from %s for %s s; sending it again", row, row.worker_name,
                               settings.CHILD_STALE_SECONDS)
                resent[row.pk] = now
                self.send(row)

    def _adopt_orphans(self, rows: list[ChildRun], should_stop: Callable[[], bool]) -> None:
        """Children still waiting after ``CHILD_STALE_SECONDS`` while no children worker answers a ping
        (all stopped, none started, a lost machine) are trained in this process, one by one, so a search
        never waits for a worker that will not come. A worker that comes back finds them claimed."""
        waiting = [r for r in rows
                   if r.state == ChildRun.PENDING or (r.state == ChildRun.RUNNING and _stale(r))]
        if not waiting or children_workers(self.device_class):
            return
        logger.warning("search %s: no children worker answers; training %s child(ren) in the search's "
                       "process", self.search_id, len(waiting))
        name = f"in-search@{socket.gethostname()}"
        for row in waiting:
            if should_stop():
                return
            owner = new_owner()
            if children.claim(row, owner, name) == "claimed":
                children.train_claimed(row.pk, self.search_id, row.job, owner, in_search=True,
                                       also_stop=should_stop)

    # -- events -----------------------------------------------------------------------------------
    def _emit_changes(self, rows: list[ChildRun]) -> None:
        if self.emitter is None:
            return
        now = time.monotonic()
        for row in rows:
            said, progress = (row.state, row.worker, row.attempts), round(row.progress, 2)
            before = self._seen.get(row.pk)
            changed = before is None or before[0] != said
            moved = not changed and progress != before[1] and \
                now - self._event_at.get(row.pk, 0.0) >= PROGRESS_EVENT_SECONDS
            if not (changed or moved):
                continue
            self._seen[row.pk] = (said, progress)
            self._event_at[row.pk] = now
            self.emitter.emit("child", **child_payload(row))


def child_payload(row: ChildRun) -> dict[str, Any]:
    """The ``child`` event's fields for ``row``."""
    metrics = row.metrics or {}
    return {"step": row.step, "index": row.index, "state": row.state, "attempt": row.attempts,
            "worker": row.worker_name or None, "progress": round(float(row.progress), 4),
            "reward": metrics.get("reward"), "seconds": metrics.get("seconds"),
            "message": row.message or None}


def _stale(row: ChildRun) -> bool:
    limit = timezone.now() - timedelta(seconds=settings.CHILD_STALE_SECONDS)
    return row.heartbeat_at is None or row.heartbeat_at < limit


def _send(row: ChildRun) -> None:
    enqueue(CHILD_TASK, row.search_id, row.step, row.index, row.job)


def children_workers(device_class: str = CPU, timeout: float = 1.0) -> list[str]:
    """The connected workers that consume ``children.<device_class>`` (asked live: each answers with its
    queues; a worker that died does not answer)."""
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:  # noqa: BLE001 - no broker: no workers to fan out to
        logger.warning("could not ask the workers for their queues", exc_info=True)
        return []
    wanted = children_queue(device_class)
    return sorted(name for name, queues in replies.items()
                  if any(q.get("name") == wanted for q in queues or []))


def fanout_enabled(evaluator: str, device_class: str = CPU) -> bool:
    """Does this search fan its children out (``CHILDREN_FANOUT``; only ``scratch`` jobs run elsewhere)?
    ``auto``: when a worker takes ``children.<device_class>``; a gpu search without gpu children workers
    trains its children in its own process, on its own GPU."""
    if evaluator != "scratch" or settings.CHILDREN_FANOUT == "off":
        return False
    return settings.CHILDREN_FANOUT == "on" or bool(children_workers(device_class))


__all__ = ["CeleryExecutor", "ChildFailed", "child_payload", "children_workers", "fanout_enabled", "job_key"]
