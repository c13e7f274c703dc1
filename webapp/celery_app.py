"""The Celery app the web app enqueues through, by task *name* (it never imports ``worker``).

``worker/app.py`` builds on this same app and imports the task modules. Configuration is
shared, so both sides agree on broker, serializer and queues.
"""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

SEARCH_QUEUE = "searches"  # long GPU work, one at a time
DATASET_QUEUE = "datasets"  # short validation work, so an upload is not stuck behind a search
CHILDREN_QUEUE = "children"  # scratch children of fanned-out searches (issue 10), any number of workers
# Longer than the longest job, so Redis never re-delivers a message whose task is still running.
VISIBILITY_TIMEOUT = 36 * 3600

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
    task_queues=[Queue(SEARCH_QUEUE), Queue(DATASET_QUEUE), Queue(CHILDREN_QUEUE)],
    task_default_queue=DATASET_QUEUE,
    task_routes={
        "worker.tasks.run_search": {"queue": SEARCH_QUEUE},
        "worker.tasks.validate_dataset": {"queue": DATASET_QUEUE},
        "worker.tasks.run_child": {"queue": CHILDREN_QUEUE},
    },
)


def enqueue(task_name: str, *args: object) -> None:
    """Send a task by name; the routes above pick its queue."""
    app.send_task(task_name, list(args))
