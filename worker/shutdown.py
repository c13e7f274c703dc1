"""Clean shutdown of a search worker: the running search pauses at its next step and is queued again.

Celery's warm shutdown (SIGTERM or the first Ctrl-C to the worker's main process) stops taking
jobs and waits for the running task, which for a search could be hours. So the main process,
on ``worker_shutting_down``, sends ``PAUSE_SIGNAL`` to each pool child running a search; the
child (which installed ``install_child_handlers`` when its task began) sets a flag that the
runner's ``should_stop`` polls. The search then checkpoints at its next step boundary, the runner
gives the row back (``queued``) and enqueues it again, and the task returns, so the worker exits
in seconds. A SIGTERM sent straight to the child (a service manager signalling the whole process
group) does the same; a second one ends the child at once (as a cold shutdown asks).

A child that gets the signal before its task installed the handler simply dies; Celery re-queues
the message (``task_reject_on_worker_lost``) and the lease's dead-holder check lets the next
claim take over at once (``worker.lease``).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

logger = logging.getLogger(__name__)

PAUSE_SIGNAL = signal.SIGUSR2
SEARCH_TASK = "worker.tasks.run_search"
_requested = threading.Event()


def requested() -> bool:
    """Has this process been asked to stop its search (and give it back)?"""
    return _requested.is_set()


def request() -> None:
    _requested.set()


def clear() -> None:
    """Forget a request (tests; a fresh pool child starts without one anyway)."""
    _requested.clear()


def _on_signal(signum: int, _frame: Any) -> None:
    if signum == signal.SIGTERM and _requested.is_set():  # asked twice: stop now, as SIGTERM would
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _requested.set()


def install_child_handlers() -> None:
    """In the process running a search (its main thread): the pause signal and SIGTERM set the flag."""
    signal.signal(PAUSE_SIGNAL, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def notify_search_children(active_requests: Any) -> list[int]:
    """From the worker's main process: signal every pool child running a search; returns their pids."""
    pids = sorted({int(r.worker_pid) for r in list(active_requests)
                   if getattr(r, "name", None) == SEARCH_TASK and getattr(r, "worker_pid", None)})
    for pid in pids:
        try:
            os.kill(pid, PAUSE_SIGNAL)
        except ProcessLookupError:
            continue
    return pids


def on_worker_shutting_down(**_: Any) -> None:
    """``celery.signals.worker_shutting_down`` receiver (runs in the main process's signal handler)."""
    from celery.worker import state

    pids = notify_search_children(state.active_requests)
    if pids:
        logger.warning("shutting down: asked the search in pool process(es) %s to pause and requeue", pids)
