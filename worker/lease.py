"""Claiming a search with a lease, so a re-delivered task never runs a search twice.

Like healthchecks' ``sendalerts``: one conditional ``UPDATE`` claims the row, and only the
process whose update changed exactly one row goes on. A claim holds a lease that a heartbeat
thread renews; a worker that dies stops renewing, and once the lease has expired the search
can be claimed again (and resumes from its checkpoint). Each claim counts an attempt; past
``SEARCH_MAX_ATTEMPTS`` the search fails instead of crash-looping.

A holder known to be gone does not keep its lease until it expires: the owner names its host and
process id (``new_owner``), so a claim on the same host whose holder's process no longer exists (or
is a zombie) takes the search over at once (``holder_gone``). A holder on another host, or a pid
now used by another process, looks alive and keeps the lease until it expires (safe: a live
holder that lost its lease notices at its next heartbeat or event write and stops).

The fanned-out children (``worker.children``, rows of ``ChildRun`` renewed by a heartbeat) are claimed
by the same rule: ``Claimable`` says which rows may be taken (free, lease run out, holder gone) and
``take`` is the counted conditional update.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from webapp.searches.events import append_event
from webapp.searches.models import Search

logger = logging.getLogger(__name__)

CLAIMED, BUSY, DONE, GAVE_UP, MISSING = "claimed", "busy", "done", "gave_up", "missing"


@dataclass(frozen=True)
class Claim:
    outcome: str
    owner: str = ""
    retry_in: float = 0.0  # BUSY: seconds until the other holder's lease runs out


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(owner: str, host: str | None = None) -> bool:
    """Is the lease holder ``owner`` (``host:pid:nonce``) known to be dead? Only a process of this host
    can be checked; anything else (another host, a malformed owner, a live or unknown pid) is not."""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != (host or socket.gethostname()) or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid <= 1 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process its parent has not reaped yet is gone too (Linux ``/proc``; elsewhere: no)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


@dataclass(frozen=True)
class Claimable:
    """Which rows of a leased table may be claimed: ``free`` ones, ``held`` ones whose lease ran out
    (``expired``), and ``held`` ones whose holder (the ``holder_field`` column) is known to be gone."""

    free: Q
    held: Q
    expired: Q
    holder_field: str

    def open(self) -> Q:
        """Free, or held with the lease run out."""
        return self.free | (self.held & self.expired)

    def abandoned_by(self, holder: str) -> Q | None:
        """Held by ``holder`` when that process no longer exists (``holder_gone``); else None."""
        if not holder or not holder_gone(holder):
            return None
        return self.held & Q(**{self.holder_field: holder})


def take(rows: QuerySet[Any], cap: int, **fields: Any) -> bool:
    """The conditional update that claims, counting an attempt unless the row has had ``cap`` already:
    exactly one row changed means it is ours."""
    return rows.filter(attempts__lt=cap).update(attempts=F("attempts") + 1, **fields) == 1


def search_claimable(now: datetime) -> Claimable:
    return Claimable(free=Q(status=Search.QUEUED), held=Q(status__in=Search.LEASED),
                     expired=Q(lease_expires_at__lt=now), holder_field="lease_owner")


def claim(search_id: int, owner: str | None = None) -> Claim:
    owner = owner or new_owner()
    now = timezone.now()
    rule = search_claimable(now)
    claimable = Search.objects.filter(rule.open(), pk=search_id)
    if _take(claimable, owner, now) or _take_from_dead_holder(search_id, rule, owner, now):
        logger.info("search %s claimed by %s", search_id, owner)
        return Claim(CLAIMED, owner)
    return _not_claimed(search_id, claimable, now)


def _take_from_dead_holder(search_id: int, rule: Claimable, owner: str, now: datetime) -> bool:
    """Claim a search whose unexpired lease belongs to a process of this host that no longer exists."""
    held = Search.objects.filter(rule.held, pk=search_id, lease_expires_at__gte=now)
    holder = held.values_list("lease_owner", flat=True).first() or ""
    abandoned = rule.abandoned_by(holder)
    if abandoned is None:
        return False
    if _take(held.filter(abandoned), owner, now):  # unless it changed hands meanwhile
        logger.warning("search %s: lease holder %s is gone (no such process); taking over now",
                       search_id, holder)
        return True
    return False


def _take(claimable: QuerySet[Search], owner: str, now: datetime) -> bool:
    return take(
        claimable, settings.SEARCH_MAX_ATTEMPTS,
        status=Case(
            When(cancel_requested=True, then=Value(Search.CANCELLING)), default=Value(Search.RUNNING)
        ),
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=settings.SEARCH_LEASE_SECONDS),
        heartbeat_at=now,
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
    )


def _not_claimed(search_id: int, claimable: QuerySet[Search], now: datetime) -> Claim:
    message = f"Gave up after {settings.SEARCH_MAX_ATTEMPTS} attempts (the worker kept stopping)."
    if claimable.filter(attempts__gte=settings.SEARCH_MAX_ATTEMPTS).update(
        status=Search.FAILED, message=message, finished_at=now, lease_owner="", lease_expires_at=None,
        eta_seconds=None,
    ):
        logger.warning("search %s: %s", search_id, message)
        append_event(search_id, "finished", {"status": Search.FAILED, "message": message, "best": None})
        return Claim(GAVE_UP)
    row = Search.objects.filter(pk=search_id).values("status", "lease_expires_at").first()
    if row is None:
        return Claim(MISSING)
    if row["status"] in Search.LEASED and row["lease_expires_at"] is not None:
        return Claim(BUSY, retry_in=max(1.0, (row["lease_expires_at"] - now).total_seconds() + 1.0))
    return Claim(DONE)


def renew(search_id: int, owner: str) -> bool:
    """Extend the lease; ``False`` when it is no longer ours (expired and claimed by another)."""
    now = timezone.now()
    return bool(
        Search.objects.filter(pk=search_id, lease_owner=owner).update(
            lease_expires_at=now + timedelta(seconds=settings.SEARCH_LEASE_SECONDS), heartbeat_at=now
        )
    )


class Heartbeat:
    """Renews the lease from a thread, so long steps without ``should_stop`` polls keep it alive."""

    def __init__(self, search_id: int, owner: str, every: float | None = None) -> None:
        self.search_id = search_id
        self.owner = owner
        self.every = every if every is not None else max(1.0, settings.SEARCH_LEASE_SECONDS / 6)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{search_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if not renew(self.search_id, self.owner):
                        logger.warning("search %s: lease lost by %s", self.search_id, self.owner)
                        self.lost.set()
                        return
                except Exception:  # noqa: BLE001 - a DB hiccup must not kill the heartbeat
                    logger.warning("search %s: heartbeat failed", self.search_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection
