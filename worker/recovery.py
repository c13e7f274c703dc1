"""On worker start: re-enqueue work a dead worker left behind.

A worker killed outright leaves its message unacknowledged in Redis until the visibility
timeout (hours). The lease tells the truth sooner, so at start-up every active search and
every dataset still validating is enqueued again; the claim makes duplicates harmless.
"""

from __future__ import annotations

import logging

from webapp.celery_app import DATASET_QUEUE, SEARCH_QUEUE, enqueue
from webapp.datasets.models import Dataset
from webapp.searches.models import Search

logger = logging.getLogger(__name__)


def requeue_unfinished(queues: set[str]) -> tuple[int, int]:
    searches = datasets = 0
    if SEARCH_QUEUE in queues:
        active = Search.objects.filter(status__in=Search.ACTIVE).order_by("pk")
        for search_id in active.values_list("pk", flat=True):
            enqueue("worker.tasks.run_search", search_id)
            searches += 1
    if DATASET_QUEUE in queues:
        for dataset_id in Dataset.objects.filter(status=Dataset.VALIDATING).values_list("pk", flat=True):
            enqueue("worker.tasks.validate_dataset", dataset_id)
            datasets += 1
    if searches or datasets:
        logger.info("re-enqueued %s unfinished search(es) and %s dataset(s)", searches, datasets)
    return searches, datasets
