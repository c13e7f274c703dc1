"""Enqueue that survives a broker outage: the database row is the truth, the message follows it.

``enqueue_on_commit`` stores an ``OutboxMessage`` inside the caller's transaction and tries to send
it right after the commit. If the broker is down the send fails quietly (logged) and the message
stays in the table; ``send_pending`` (called every few seconds by each Celery worker, see
``worker/dispatcher.py``) sends it once the broker is back. A message may so be sent twice (a
process dies between the send and the delete): every task is idempotent on its id (the search
claim, the dataset ``validating`` check), so a duplicate is harmless, a lost one impossible.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webapp.celery_app import enqueue
from webapp.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: str, object_id: int) -> OutboxMessage:
    """Store the message in the current transaction; send it once that commits."""
    message = OutboxMessage.objects.create(task=task, object_id=object_id)
    transaction.on_commit(lambda: send(message))
    return message


def send(message: OutboxMessage) -> bool:
    """Hand one stored message to the broker; ``False`` (message kept, error noted) when that fails."""
    try:
        enqueue(message.task, message.object_id)
    except Exception as exc:  # noqa: BLE001 - any broker error: the stored message is the retry
        logger.warning("could not enqueue %s(%s) yet, kept in the outbox: %s", message.task,
                       message.object_id, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500])
        return False
    OutboxMessage.objects.filter(pk=message.pk).delete()
    return True


def send_pending(tasks: Collection[str], older_than: float, limit: int = 500) -> int:
    """Send stored messages for ``tasks`` made more than ``older_than`` s ago (younger ones are still
    being sent by the request that made them); stops at the first failure. Returns how many went."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    sent = 0
    for message in OutboxMessage.objects.filter(task__in=list(tasks), created__lt=cutoff)[:limit]:
        if not send(message):
            break
        sent += 1
    if sent:
        logger.info("outbox: sent %s message(s) held while the broker was unavailable", sent)
    return sent


def is_pending(task: str, object_id: int) -> bool:
    """Whether a message for this row is still waiting for the broker."""
    return OutboxMessage.objects.filter(task=task, object_id=object_id).exists()
