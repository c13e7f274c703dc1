"""Fair order of the shared search queue: round-robin over users, least recently served first.

One user's 30 queued searches must not make the next user wait at position 30. The next search
to run is the oldest queued search of the user whose last search *started* longest ago (a user
never served comes first; ties go to the user with the older queued search); after each pick that
user goes to the back of the ring. The worker's claim (``worker/scheduling.py``) and the queue
positions shown to users (``services.queue_position``) both read this one order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import OuterRef, Subquery

from webapp.searches.models import Search


def fair_order(queued: Sequence[tuple[int, int]], last_served: Mapping[int, datetime | None]) -> list[int]:
    """Queued search ids in the order they will run.

    ``queued``: ``(search id, owner id)`` pairs; ``last_served``: owner id -> when a search of theirs
    last started (missing or ``None``: never)."""
    per_user: dict[int, deque[int]] = {}
    for search_id, owner_id in sorted(queued):
        per_user.setdefault(owner_id, deque()).append(search_id)

    def served_key(owner_id: int) -> tuple[bool, float, int]:
        when = last_served.get(owner_id)
        return when is not None, when.timestamp() if when else 0.0, per_user[owner_id][0]

    ring = deque(sorted(per_user, key=served_key))
    order: list[int] = []
    while ring:
        owner_id = ring.popleft()
        order.append(per_user[owner_id].popleft())
        if per_user[owner_id]:
            ring.append(owner_id)
    return order


def queued_in_fair_order(device_class: str | None = None) -> list[int]:
    """Every queued search id (of ``device_class``, if given: each class has its own workers), next to
    run first (one query)."""
    last_started = (Search.objects.filter(owner=OuterRef("owner"), started_at__isnull=False)
                    .order_by("-started_at").values("started_at")[:1])
    queued_rows = Search.objects.filter(status=Search.QUEUED)
    if device_class is not None:
        queued_rows = queued_rows.filter(device_class=device_class)
    rows = (queued_rows.order_by()
            .annotate(last_served=Subquery(last_started)).values_list("pk", "owner_id", "last_served"))
    queued, last_served = [], {}
    for search_id, owner_id, served in rows:
        queued.append((search_id, owner_id))
        last_served[owner_id] = served
    return fair_order(queued, last_served)


def next_queued(excluding: set[int] | frozenset[int] = frozenset(),
                device_class: str | None = None) -> int | None:
    """The fairest queued search (of ``device_class``, if given) to run now (``None``: nothing queued)."""
    return next((pk for pk in queued_in_fair_order(device_class) if pk not in excluding), None)
