"""The worker's Celery app: ``webapp.celery_app.app`` with the tasks imported.

Run: ``celery -A worker.app worker -Q searches.cpu --concurrency 1 -l info`` (and a second worker
with ``-Q datasets``; on a GPU machine one worker per GPU with ``-Q searches.gpu`` and
``CUDA_VISIBLE_DEVICES=<n>``, see README "Deployment"). The prefork pool with one child (fresh per task,
``worker_max_tasks_per_child=1``) is the robust choice for torch: a crash or OOM kill of the child
is caught by the parent and the message re-queued (``task_reject_on_worker_lost``), and each
search starts in a clean process, so GPU and CPU memory are returned when it ends. Nothing in
the parent initialises CUDA or torch threads before forking (the runner imports torch lazily).
"""

from __future__ import annotations

import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django.setup()

from celery.signals import task_prerun, worker_ready, worker_shutting_down  # noqa: E402

from webapp.celery_app import CPU, DATASET_QUEUE, app, search_queue  # noqa: E402
from worker import shutdown, tasks  # noqa: E402  (tasks: registers them)
from worker.dispatcher import Dispatcher  # noqa: E402

app.steps["worker"].add(Dispatcher)  # sends what the broker could not take (durable enqueue)

logger = logging.getLogger(__name__)

# warm or cold shutdown: a running search pauses at its next step and is queued again (worker.shutdown)
worker_shutting_down.connect(shutdown.on_worker_shutting_down, weak=False)


@task_prerun.connect(sender=tasks.run_search)
def _pause_on_shutdown(**_: object) -> None:
    """In the pool child, before a search task runs (main thread): install the pause handlers."""
    shutdown.install_child_handlers()


@worker_ready.connect
def _requeue_on_start(sender: object = None, **_: object) -> None:
    from worker.recovery import requeue_unfinished

    consumer = getattr(sender, "task_consumer", None)
    queues = {q.name for q in getattr(consumer, "queues", [])} or {search_queue(CPU), DATASET_QUEUE}
    try:
        requeue_unfinished(queues)
    except Exception:  # noqa: BLE001 - a worker must start even if recovery cannot run
        logger.exception("could not re-enqueue unfinished work")


__all__ = ["app"]
