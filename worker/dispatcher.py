"""The workers' dispatcher: messages the broker could not take are sent once it is back.

A Celery worker bootstep (no extra process, no thread: it runs on the worker's own timer in the
main process, between consuming messages, so it pauses while the broker is unreachable and
resumes with the connection). Each tick

- sends the outbox (``webapp.outbox``) for the tasks routed to the queues this worker consumes:
  rows saved while Redis was down get their message within ``OUTBOX_POLL_SECONDS`` of it coming back;
- on a worker taking ``searches.<class>``, every ``QUEUE_RECONCILE_SECONDS``, tops that class's queue up
  to one waiting message per queued search and per orphaned one of the class (leased, its lease run
  out: ``top_up_searches``);
- every ``WORKER_BEAT_SECONDS`` writes this worker's heartbeat row (``webapp.workers``: the worker
  page, and whether a GPU worker is live), deleted when the worker stops.
  Search messages are turns (``worker/scheduling.py``), so the count is
  all that matters; this heals messages lost from Redis itself (restarted without its append-only
  file, flushed). An extra message is a no-op, a missing one would leave a search queued forever.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from kombu.exceptions import ChannelError

from webapp.celery_app import CPU, RUN_SEARCH, SEARCH_QUEUES, TASK_QUEUES, enqueue, queue_class, search_queue
from webapp.outbox.services import send_pending
from webapp.searches.fairness import queued_in_fair_order
from webapp.searches.models import Search
from webapp.workers import services as workers

logger = logging.getLogger(__name__)

RUN_TASK = RUN_SEARCH
SETTLE_SECONDS = 5.0  # a search younger than this may still be sending its own message


def tasks_for(queues: set[str], routes: dict[str, tuple[str, ...]] = TASK_QUEUES) -> list[str]:
    """The task names that may be routed to ``queues`` (``TASK_QUEUES`` of ``webapp.celery_app``). A
    search's outbox message may so be sent by a worker of the other class: the router still puts it
    on its own class's queue."""
    return sorted(name for name, targets in routes.items() if set(targets) & queues)


def waiting_messages(app: Any, queue: str) -> int:
    """Messages waiting in ``queue`` (not those a worker has taken)."""
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # Redis has no key for an empty queue
            return 0


def top_up_searches(app: Any, older_than: float, device_class: str = CPU) -> int:
    """Send one message per queued or orphaned search beyond those waiting; returns how many were sent.

    Searches queued in the last ``older_than`` s are not counted: their own message may be on its
    way (sent right after their commit); counting them would only send extra (harmless) turns.
    An orphan is a leased search (running, cancelling) whose lease ran out more than ``older_than``
    s ago with nobody renewing it: a worker on another host that died, or a search paused at a
    shutdown whose requeue could not reach the broker. Its message names it, so it is resumed.
    Only searches of ``device_class`` count, against the messages waiting in its own queue."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    of_class = Search.objects.filter(device_class=device_class)
    settled = of_class.filter(status=Search.QUEUED, created__lt=cutoff).count()
    orphans = list(of_class.filter(status__in=Search.LEASED, lease_expires_at__lt=cutoff)
                   .order_by("lease_expires_at").values_list("pk", flat=True))
    if not settled and not orphans:
        return 0
    queue = search_queue(device_class)
    missing = settled + len(orphans) - waiting_messages(app, queue)
    # orphans first, each by its id; the rest are turns (a label: the message runs the fairest)
    for search_id in (orphans + queued_in_fair_order(device_class))[:max(0, missing)]:
        enqueue(RUN_TASK, search_id)
    if missing > 0:
        logger.warning("%s queue: %s queued and %s orphaned search(es), %s message(s) missing; "
                       "sent them", queue, settled, len(orphans), missing)
    return max(0, missing)


class Dispatcher(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None
        self.queues: set[str] = set()
        self.tasks: list[str] = []
        self.poll = float(settings.OUTBOX_POLL_SECONDS)
        self.reconcile_every = float(settings.QUEUE_RECONCILE_SECONDS)
        self.last_reconcile = time.monotonic()  # start-up recovery has just re-enqueued everything
        self.beat_every = float(settings.WORKER_BEAT_SECONDS)
        self.last_beat = float("-inf")
        self.name = ""
        self.started_at = timezone.now()

    def start(self, worker: Any) -> None:
        self.app = worker.app
        self.queues = set(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)
        self.tasks = tasks_for(self.queues)
        self.name = str(worker.hostname)
        self._beat()  # at once: the designer offers gpu as soon as a GPU worker is up
        self.tref = worker.timer.call_repeatedly(self.poll, self.tick)
        logger.info("dispatcher: outbox for %s every %.0f s", ", ".join(self.tasks), self.poll)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        try:
            workers.forget(self.name)
        except Exception:  # noqa: BLE001 - its row then shows it as lost after WORKER_LOST_SECONDS
            logger.warning("could not remove worker %s from the list", self.name, exc_info=True)
        finally:
            close_old_connections()

    def _beat(self) -> None:
        self.last_beat = time.monotonic()
        try:
            workers.beat(self.name, self.queues, self.started_at)
        except Exception:  # noqa: BLE001 - a DB hiccup: the next beat writes it
            logger.warning("worker heartbeat row not written", exc_info=True)
        finally:
            close_old_connections()  # never a connection the pool's forked children would share

    def tick(self) -> None:
        try:
            if time.monotonic() - self.last_beat >= self.beat_every:
                self._beat()
            send_pending(self.tasks, older_than=self.poll)
            due = time.monotonic() - self.last_reconcile >= self.reconcile_every
            if due and self.queues & set(SEARCH_QUEUES):
                self.last_reconcile = time.monotonic()
                for queue in sorted(self.queues & set(SEARCH_QUEUES)):
                    top_up_searches(self.app, older_than=SETTLE_SECONDS,
                                    device_class=queue_class(queue) or CPU)
        except Exception:  # noqa: BLE001 - a broker or DB hiccup: the next tick tries again
            logger.warning("dispatcher tick failed; retrying in %.0f s", self.poll, exc_info=True)
        finally:
            close_old_connections()
