"""One fanned-out scratch child, run by a `children` worker (issue 10 item 1).

The task (``worker.tasks.run_child``) names its row (``ChildRun``: search, step, index) and carries the
job's JSON. ``run_child`` claims the row with one conditional update (``worker.lease.Claimable`` and
``take``, the rule searches are claimed by) — a pending row, a running row whose holder is gone (a
process of this host that no longer exists) or whose heartbeat is older than ``CHILD_STALE_SECONDS``
— so a redelivered or duplicate message never trains a child twice: a row that
is done, failed or cancelled, or that a live worker holds, is left as it is. Each claim counts an
attempt; a row claimed ``CHILD_MAX_ATTEMPTS`` times already (its workers kept dying) becomes ``failed``
with the reason, which fails the search (``worker.executor``) instead of hanging it.

While it trains, a heartbeat thread keeps the row's ``heartbeat_at`` fresh, progress is written at most
once a second, and the job stops (``JobCancelled``) when the search is cancelled or has ended, or when
the row is no longer this process's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from webapp.searches.models import ChildRun, Search
from worker.lease import Claimable, new_owner, take

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1.0  # seconds between progress writes
STOP_POLL = 1.0  # seconds between reads of the search's cancel flag


def run_child(search_id: int, step: int, index: int, job: dict[str, Any], worker_name: str = "") -> str:
    """Claim and run the child (search, step, index); returns what happened (for logs and tests)."""
    row = ChildRun.objects.filter(search_id=search_id, step=step, index=index).first()
    if row is None:
        logger.info("child %s.%s of search %s: no such row (search deleted?)", step, index, search_id)
        return "missing"
    if row.state in (ChildRun.DONE, ChildRun.FAILED, ChildRun.CANCELLED):
        logger.info("%s: already %s, not run again", row, row.state)
        return row.state
    if _search_over(search_id):
        ChildRun.objects.filter(pk=row.pk, state__in=[ChildRun.PENDING, ChildRun.RUNNING]).update(
            state=ChildRun.CANCELLED, message="the search was cancelled or has ended")
        return ChildRun.CANCELLED
    owner = new_owner()
    outcome = claim(row, owner, worker_name)
    if outcome != "claimed":
        return outcome
    return train_claimed(row.pk, search_id, job, owner)


def claim(row: ChildRun, owner: str, worker_name: str = "") -> str:
    """Take ``row`` for ``owner``: ``claimed``, ``busy`` (a live worker holds it) or ``failed`` (cap)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CHILD_STALE_SECONDS)
    rule = Claimable(free=Q(state=ChildRun.PENDING), held=Q(state=ChildRun.RUNNING),
                     expired=Q(heartbeat_at__lt=stale), holder_field="worker")
    takeable = rule.open()
    abandoned = rule.abandoned_by(row.worker) if row.state == ChildRun.RUNNING else None
    if abandoned is not None:
        takeable |= abandoned
    rows = ChildRun.objects.filter(takeable, pk=row.pk)
    cap = settings.CHILD_MAX_ATTEMPTS
    message = (f"Child {row.index + 1} of batch {row.step + 1} failed: its worker stopped {cap} times while "
               f"training it (CHILD_MAX_ATTEMPTS).")
    if rows.filter(attempts__gte=cap).update(state=ChildRun.FAILED, message=message, finished_at=now):
        logger.warning("%s: %s", row, message)
        return ChildRun.FAILED
    if take(rows, cap, state=ChildRun.RUNNING, worker=owner, worker_name=worker_name[:200], progress=0.0,
            heartbeat_at=now):
        logger.info("%s claimed by %s (%s)", row, owner, worker_name)
        return "claimed"
    logger.info("%s: held by a live worker; this message is a duplicate", row)
    return "busy"


def train_claimed(row_id: int, search_id: int, job: dict[str, Any], owner: str, *, in_search: bool = False,
                  also_stop: Callable[[], bool] | None = None) -> str:
    """Train the child of a row ``owner`` has claimed and record the outcome on the row. ``in_search``:
    the coordinating search's own process runs it (no children worker left), so its torch threads are
    left alone and ``also_stop`` (its pause or cancel) stops the child too."""
    from searchcore.evaluators.executor import JobCancelled, JobHooks, run_job

    if not in_search:
        _set_torch_threads()
    mine = ChildRun.objects.filter(pk=row_id, worker=owner, state=ChildRun.RUNNING)
    child_stop = _ChildStop(search_id, mine)
    stop = child_stop if also_stop is None else (lambda: also_stop() or child_stop())
    try:
        with _Heartbeat(mine):
            metrics = run_job(job, JobHooks(should_stop=stop, on_progress=_ProgressWriter(mine)))
    except JobCancelled:
        mine.update(state=ChildRun.CANCELLED, message="stopped: the search was cancelled or has ended")
        return ChildRun.CANCELLED
    except Exception as exc:  # noqa: BLE001 - recorded on the row; the coordinator fails the search with it
        logger.exception("child %s of search %s failed", row_id, search_id)
        mine.update(state=ChildRun.FAILED, message=f"{type(exc).__name__}: {exc}"[:2000],
                    finished_at=timezone.now())
        return ChildRun.FAILED
    done = mine.update(state=ChildRun.DONE, metrics={k: float(v) for k, v in metrics.items()}, progress=1.0,
                       finished_at=timezone.now(), heartbeat_at=timezone.now())
    return ChildRun.DONE if done else "lost"


def _set_torch_threads() -> None:
    import torch

    threads = settings.CHILD_TORCH_THREADS
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _search_over(search_id: int) -> bool:
    row = Search.objects.filter(pk=search_id).values("status", "cancel_requested").first()
    return row is None or row["cancel_requested"] or row["status"] in Search.FINAL


class _ChildStop:
    """``should_stop`` of a child: the search cancelled or ended, or the row taken by another process."""

    def __init__(self, search_id: int, mine: Any) -> None:
        self.search_id = search_id
        self.mine = mine
        self.stopped = False
        self._last = float("-inf")

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.stopped and now - self._last >= STOP_POLL:
            self._last = now
            self.stopped = _search_over(self.search_id) or not self.mine.exists()
        return self.stopped


class _ProgressWriter:
    def __init__(self, mine: Any) -> None:
        self.mine = mine
        self._last = float("-inf")

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY:
            self._last = now
            self.mine.update(progress=min(max(float(fraction), 0.0), 1.0), heartbeat_at=timezone.now())


class _Heartbeat:
    """Keeps ``heartbeat_at`` fresh from a thread, so a long minibatch does not look like a dead worker."""

    def __init__(self, mine: Any) -> None:
        self.mine = mine
        self.every = max(1.0, settings.CHILD_STALE_SECONDS / 6)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="child-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    self.mine.update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a DB hiccup must not end the heartbeat
                    logger.warning("child heartbeat failed", exc_info=True)
                    close_old_connections()
        finally:
            connection.close()


__all__ = ["claim", "run_child", "train_claimed"]
