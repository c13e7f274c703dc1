"""Celery tasks: thin, they take ids and hand over to services (Celery "Tasks" guide style)."""

from __future__ import annotations

import logging

from celery import Task

from webapp.celery_app import app, queue_class
from worker import lease
from worker.scheduling import claim_for_message
from worker.validation_time import ValidationTask, hard_time_limit, soft_time_limit

logger = logging.getLogger(__name__)


@app.task(name="worker.tasks.validate_dataset", base=ValidationTask,
          soft_time_limit=soft_time_limit(), time_limit=hard_time_limit())
def validate_dataset(dataset_id: int) -> None:
    from worker.datasets import validate_dataset as validate

    validate(dataset_id)


@app.task(name="worker.tasks.run_search", bind=True, max_retries=None)
def run_search(self: Task, search_id: int) -> None:
    """Run the search this message is for if it is being resumed, else the fairest queued one of the
    device class of the queue it came from."""
    search_id, claim = claim_for_message(search_id, device_class=_queue_class(self))
    if claim.outcome == lease.BUSY:
        # Another process holds a live lease (e.g. this is a re-delivery after a worker crash):
        # look again when that lease runs out; the claim then succeeds if nobody renewed it.
        logger.info("search %s is leased elsewhere; retrying in %.0f s", search_id, claim.retry_in)
        raise self.retry(countdown=claim.retry_in)
    if claim.outcome != lease.CLAIMED:
        logger.info("search %s: nothing to do (%s)", search_id, claim.outcome)
        return
    from worker.runner import run_claimed_search  # imports torch: only in the process that runs

    run_claimed_search(search_id, claim.owner, worker_name=str(self.request.hostname or ""))


def _queue_class(task: Task) -> str | None:
    """The device class of the queue this message was delivered from (``None``: not known, e.g. a test
    calling the task directly; the claim then uses the class of the message's search)."""
    info = task.request.delivery_info or {}
    return queue_class(str(info.get("routing_key") or info.get("queue") or ""))


@app.task(name="worker.tasks.run_child", bind=True)
def run_child(self: Task, search_id: int, step: int, index: int, job: dict) -> str:
    """Train one scratch child of a fanned-out search (``worker.children``); a duplicate is a no-op."""
    from worker.children import run_child as run

    return run(search_id, step, index, job, worker_name=str(self.request.hostname or ""))
