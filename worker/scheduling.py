"""Which search a ``run_search`` message runs: its own if it is being resumed, else the fairest one.

Messages on the ``searches`` queue are turns, not assignments. A message whose search is leased
(running or cancelling, e.g. re-delivered after a worker crash) resumes that search, as before.
Any other message (its search queued, finished, cancelled or gone) claims the next queued search
in the fair order (``webapp.searches.fairness``: round-robin over users) — so one user's 30
messages ahead in Redis do not hold another user's search back, and a duplicate or stale message
is harmless: it runs whatever is fairest, or nothing. Every queued row has had a message sent for
it (the outbox and the queue top-up in ``worker/dispatcher.py`` keep it so), so none is left behind.
A turn is a turn of one device class (issue 10 item 2): a message from ``searches.gpu`` only ever claims
a gpu-class search, one from ``searches.cpu`` a cpu-class one.
"""

from __future__ import annotations

import logging

from webapp.celery_app import CPU
from webapp.searches.fairness import next_queued
from webapp.searches.models import Search
from worker import lease

logger = logging.getLogger(__name__)

MAX_RACES = 20  # claims lost to another worker before giving this turn up


def claim_for_message(search_id: int, device_class: str | None = None) -> tuple[int, lease.Claim]:
    """``(search id, claim)`` for a message naming ``search_id`` taken from the queue of ``device_class``
    (``None``: the class of ``search_id``, which is the queue the router sent it to)."""
    row = Search.objects.filter(pk=search_id).values("status", "device_class").first()
    if device_class is None:
        device_class = row["device_class"] if row is not None else CPU
    if row is not None and row["status"] in Search.LEASED and row["device_class"] == device_class:
        return search_id, lease.claim(search_id)
    tried: set[int] = set()
    for _ in range(MAX_RACES):
        chosen = next_queued(excluding=tried, device_class=device_class)
        if chosen is None:
            break
        claim = lease.claim(chosen)
        if claim.outcome == lease.CLAIMED:
            if chosen != search_id:
                logger.info("message for search %s runs search %s (fair order)", search_id, chosen)
            return chosen, claim
        tried.add(chosen)  # another worker took it (or it gave up): the next fairest
    return search_id, lease.Claim(lease.DONE)
