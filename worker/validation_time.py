"""The time limit of one dataset validation, as Celery enforces it behind the in-loop deadline.

``worker.datasets`` passes a ``searchcore`` ``Deadline`` of ``DATASET_VALIDATION_SECONDS`` into
every loop that reads the upload; that is what normally stops a long validation, with a clear
reason. Code outside those loops (parsing a huge zip directory, one slow decode, a text corpus)
is stopped by Celery instead: the soft limit (``GRACE`` later) raises ``SoftTimeLimitExceeded``
in the task, which marks the dataset failed; the hard limit (``KILL_AFTER`` later still) kills
the pool child, and :class:`ValidationTask` marks the dataset failed from the parent, so no upload
stays ``validating`` and the datasets worker takes the next one. This module imports no torch:
the parent process loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

logger = logging.getLogger(__name__)

GRACE = 60  # seconds after the in-loop deadline before Celery's soft limit
KILL_AFTER = 30  # seconds after the soft limit before the pool child is killed


def soft_time_limit() -> int:
    return int(settings.DATASET_VALIDATION_SECONDS) + GRACE


def hard_time_limit() -> int:
    return soft_time_limit() + KILL_AFTER


def over_time_message(seconds: float) -> str:
    return (
        f"checking the dataset took longer than the limit of {seconds:g} s and was stopped; "
        "upload fewer or smaller files, or ask the administrator for a longer limit"
    )


def fail_if_still_validating(dataset_id: int, message: str) -> bool:
    """Mark a dataset that is still ``validating`` failed; False if it had already finished."""
    from webapp.datasets.models import Dataset
    from webapp.datasets.services import mark_failed

    dataset = Dataset.objects.filter(pk=dataset_id, status=Dataset.VALIDATING).first()
    if dataset is None:
        return False
    mark_failed(dataset, message)
    return True


class ValidationTask(Task):
    """Base of the validation task: a hard time limit still leaves the dataset with a reason."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:
            seconds = settings.DATASET_VALIDATION_SECONDS
            if fail_if_still_validating(int(args[0]), over_time_message(seconds)):
                logger.warning("dataset %s: validation killed by the hard time limit", args[0])
        super().on_failure(exc, task_id, args, kwargs, einfo)
