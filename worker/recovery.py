"""On worker start: re-enqueue work a dead worker left behind.

A worker killed outright leaves its message unacknowledged in Redis until the visibility
timeout (hours). The lease tells the truth sooner, so at start-up every active search of the
device classes this worker serves and every dataset still validating is enqueued again (the
router puts each search on its own class's queue); the claim makes duplicates harmless.
"""

from __future__ import annotations

import logging

from webapp.celery_app import DATASET_QUEUE, RUN_SEARCH, SEARCH_QUEUES, VALIDATE_DATASET, enqueue, queue_class
from webapp.datasets.models import Dataset
from webapp.searches.models import Search

logger = logging.getLogger(__name__)


def requeue_unfinished(queues: set[str]) -> tuple[int, int]:
    searches = datasets = 0
    classes = sorted({queue_class(q) for q in queues & set(SEARCH_QUEUES)} - {None})
    if classes:
        active = Search.objects.filter(status__in=Search.ACTIVE, device_class__in=classes).order_by("pk")
        for search_id in active.values_list("pk", flat=True):
            enqueue(RUN_SEARCH, search_id)
            searches += 1
    if DATASET_QUEUE in queues:
        for dataset_id in Dataset.objects.filter(status=Dataset.VALIDATING).values_list("pk", flat=True):
            enqueue(VALIDATE_DATASET, dataset_id)
            datasets += 1
    if searches or datasets:
        logger.info("re-enqueued %s unfinished search(es) of %s and %s dataset(s)", searches,
                    "/".join(classes) or "no class", datasets)
    return searches, datasets
