"""Storing search events: the rows are the truth, pushes to browsers only a fast path."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, transaction

from webapp.searches import realtime
from webapp.searches.models import Search, SearchEvent

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The worker writing an event no longer holds the search's lease (another worker claimed it)."""


def store_event(search_id: int, event: dict[str, Any], lease_owner: str | None = None) -> bool:
    """Insert one event row; ``False`` when that ``seq`` is already stored (a re-delivered event).

    With ``lease_owner``, the row is written only while that worker still holds the lease, checked
    in the same transaction (the search row is locked where the database can): a worker that lost
    its lease must not write into the new owner's numbering. Raises ``LeaseLost`` otherwise.
    """
    seq = int(event["seq"])
    try:
        with transaction.atomic():
            if lease_owner is not None and not Search.objects.select_for_update().filter(
                    pk=search_id, lease_owner=lease_owner).exists():
                raise LeaseLost(f"search {search_id} is no longer leased to {lease_owner}")
            SearchEvent.objects.create(
                search_id=search_id, seq=seq, type=event["type"], time=float(event["time"]),
                payload=event.get("payload") or {},
            )
    except IntegrityError:
        stored = SearchEvent.objects.filter(search_id=search_id, seq=seq).values_list("type", flat=True)
        if stored.first() != event["type"]:
            logger.warning("search %s: seq %s already stored as another type than %r", search_id, seq,
                           event["type"])
        return False
    Search.objects.filter(pk=search_id, last_seq__lt=seq).update(last_seq=seq)
    return True


def truncate_after(search_id: int, seq: int) -> int:
    """Delete events after ``seq`` (a resumed search re-emits them); returns how many went.

    Open websockets are told (``realtime.publish_rewind``) so they forward the new events with
    those numbers instead of dropping them as already sent.
    """
    deleted, _ = SearchEvent.objects.filter(search_id=search_id, seq__gt=seq).delete()
    Search.objects.filter(pk=search_id).update(last_seq=seq)
    if deleted:
        logger.info("search %s: dropped %s events after seq %s to resume", search_id, deleted, seq)
        realtime.publish_rewind(search_id, seq)
    return deleted


def append_event(search_id: int, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Store the next event of a search from the web side (e.g. cancelled while queued) and push it."""
    with transaction.atomic():
        last = Search.objects.filter(pk=search_id).values_list("last_seq", flat=True).get()
        event = {"seq": last + 1, "type": type_, "time": time.time(), "payload": payload}
        store_event(search_id, event)
    transaction.on_commit(lambda: realtime.publish(search_id, event))
    return event


def event_time(search_id: int, seq: int) -> float | None:
    """The stored ``time`` of event ``seq`` (``None`` when there is no such event)."""
    return SearchEvent.objects.filter(search_id=search_id, seq=seq).values_list("time", flat=True).first()


def events_after(search_id: int, after: int, limit: int | None = None) -> list[dict[str, Any]]:
    qs = SearchEvent.objects.filter(search_id=search_id, seq__gt=after).order_by("seq")
    if limit is not None:
        qs = qs[:limit]
    return [e.to_dict() for e in qs]


def payloads_of_type(search_id: int, type_: str) -> list[dict[str, Any]]:
    """Every payload of one event type, oldest first (e.g. the final-training epochs)."""
    rows = SearchEvent.objects.filter(search_id=search_id, type=type_).order_by("seq")
    return [r.payload for r in rows]


def latest_of_type(search_id: int, type_: str, seq: int | None = None) -> SearchEvent | None:
    """The newest event of ``type_`` (or the one at ``seq`` when given), ``None`` if there is none."""
    rows = SearchEvent.objects.filter(search_id=search_id, type=type_)
    if seq is not None:
        rows = rows.filter(seq=seq)
    return rows.order_by("-seq").first()


def payload_values(search_id: int, type_: str, keys: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """The named payload keys of every event of one type, oldest first, one tuple per event
    (``None`` where a payload lacks a key): the database reads only those keys, so a page can
    go over every sampled architecture of a long search without loading their graphs."""
    rows = SearchEvent.objects.filter(search_id=search_id, type=type_).order_by("seq")
    return rows.values_list(*(f"payload__{key}" for key in keys)).iterator(chunk_size=2000)
