"""A search's status: the one set of names and the one table of allowed moves.

Models, services, the worker's lease/runner/sink and the pages all read these; no other module
spells a status. The searchcore result statuses (``SearchResult.status``) use the same words for
the three final states, so the runner compares them through these constants too.
"""

from __future__ import annotations

QUEUED, RUNNING, CANCELLING = "queued", "running", "cancelling"
CANCELLED, FAILED, SUCCEEDED = "cancelled", "failed", "succeeded"

ALL = (QUEUED, RUNNING, CANCELLING, CANCELLED, FAILED, SUCCEEDED)
CHOICES = [(s, s.capitalize()) for s in ALL]
ACTIVE = (QUEUED, RUNNING, CANCELLING)
LEASED = (RUNNING, CANCELLING)  # a worker holds (or held, if expired) the lease
FINAL = (CANCELLED, FAILED, SUCCEEDED)

# from -> the statuses it may move to; a final status moves nowhere (a re-run is a new search)
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, CANCELLING, CANCELLED, FAILED}),
    RUNNING: frozenset({RUNNING, CANCELLING, *FINAL}),  # RUNNING -> RUNNING: an expired lease re-claimed
    CANCELLING: frozenset({CANCELLING, *FINAL}),
    CANCELLED: frozenset(), FAILED: frozenset(), SUCCEEDED: frozenset(),
}


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def moves_into(new: str) -> tuple[str, ...]:
    """The statuses a row may be in for an update to ``new`` (a guarded update filters on them)."""
    return tuple(s for s in ALL if can_move(s, new))


def is_final(status: str) -> bool:
    return status in FINAL


def can_cancel(status: str) -> bool:
    """Queued or running searches can be cancelled; finished (or already cancelling) ones cannot."""
    return status in (QUEUED, RUNNING)


def cancel_target(status: str) -> str | None:
    """Where a cancel moves a search: queued ends at once, running stops cooperatively."""
    if not can_cancel(status):
        return None
    return CANCELLED if status == QUEUED else CANCELLING
