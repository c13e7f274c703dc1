"""The Celery app the web app enqueues through, by task *name* (it never imports ``worker``).

``worker/app.py`` builds on this same app and imports the task modules. Configuration is
shared, so both sides agree on broker, serializer and queues.

Queues (issue 10 item 2): one per kind of work and **device class** — ``searches.cpu``,
``searches.gpu``, ``children.cpu``, ``children.gpu`` — plus ``datasets``. A worker's class is the
class of the queues it consumes (``-Q searches.gpu,children.gpu`` on a GPU machine), so the broker
itself keeps GPU work away from CPU-only workers: no worker ever receives a message of a class it does
not serve. ``route_task`` picks the queue of a search (and of its children) from the class stored on
the search row, so every enqueue path — outbox, queue top-up, requeue on start, pause, children
fan-out — routes the same way without passing the class around.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from django.conf import settings
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

CPU, GPU = "cpu", "gpu"
DEVICE_CLASSES = (CPU, GPU)
SEARCH_QUEUE = "searches"  # prefix: searches.cpu / searches.gpu, long work, one search per worker
DATASET_QUEUE = "datasets"  # short validation work, so an upload is not stuck behind a search
CHILDREN_QUEUE = "children"  # prefix: children.cpu / children.gpu, fanned-out scratch children (issue 10)
RUN_SEARCH, RUN_CHILD, VALIDATE_DATASET = ("worker.tasks.run_search", "worker.tasks.run_child",
                                           "worker.tasks.validate_dataset")
# Longer than the longest job, so Redis never re-delivers a message whose task is still running.
VISIBILITY_TIMEOUT = 36 * 3600


def search_queue(device_class: str) -> str:
    return f"{SEARCH_QUEUE}.{device_class}"


def children_queue(device_class: str) -> str:
    return f"{CHILDREN_QUEUE}.{device_class}"


SEARCH_QUEUES = tuple(search_queue(c) for c in DEVICE_CLASSES)
CHILDREN_QUEUES = tuple(children_queue(c) for c in DEVICE_CLASSES)
ALL_QUEUES = (*SEARCH_QUEUES, *CHILDREN_QUEUES, DATASET_QUEUE)
# task -> every queue it may be routed to (the dispatcher sends a worker's outbox by these)
TASK_QUEUES: dict[str, tuple[str, ...]] = {RUN_SEARCH: SEARCH_QUEUES, RUN_CHILD: CHILDREN_QUEUES,
                                           VALIDATE_DATASET: (DATASET_QUEUE,)}


def queue_class(queue: str) -> str | None:
    """The device class a queue serves (``searches.gpu`` -> ``gpu``); ``None`` for ``datasets``."""
    kind, _, device_class = queue.partition(".")
    return device_class if kind in (SEARCH_QUEUE, CHILDREN_QUEUE) and device_class in DEVICE_CLASSES else None


def device_class_of(search_id: Any) -> str:
    """The stored class of a search (``cpu`` for a missing row: its message is a harmless cpu turn)."""
    from webapp.searches.models import Search  # lazy: this module is imported before the apps load

    found = Search.objects.filter(pk=search_id).values_list("device_class", flat=True).first()
    return found if found in DEVICE_CLASSES else CPU


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any) -> dict | None:
    """Celery router: a search or child message goes to its search's class queue (one indexed read)."""
    if name == VALIDATE_DATASET:
        return {"queue": DATASET_QUEUE}
    if name in (RUN_SEARCH, RUN_CHILD) and args:
        device_class = device_class_of(args[0])
        return {"queue": search_queue(device_class) if name == RUN_SEARCH else children_queue(device_class)}
    return None


app = Celery("nas_studio")
app.conf.update(
    broker_url=settings.CELERY_BROKER_URL,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_backend=None,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_max_tasks_per_child=1,  # a fresh child per job frees GPU/CPU memory after each search
    worker_hijack_root_logger=False,
    task_queues=[Queue(name) for name in ALL_QUEUES],
    task_default_queue=DATASET_QUEUE,
    task_routes=(route_task,),
)


def enqueue(task_name: str, *args: object) -> None:
    """Send a task by name; ``route_task`` picks its queue."""
    app.send_task(task_name, list(args))
