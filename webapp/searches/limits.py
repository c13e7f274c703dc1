"""Per-user search limits: searches active at once and launches per minute (issue 11 item 1).

Every row that ends up on the ``searches`` queue counts — a new search, its controls, a transfer,
a re-run — so no path around the limits makes work for the shared workers. Both limits are counts
of ``Search`` rows in the database, so they hold across the web processes without Redis:

- active: ``queued`` + ``running`` + ``cancelling`` rows of the user, at most
  ``SEARCH_MAX_ACTIVE_PER_USER``;
- launches: rows the user created in the last 60 seconds, at most ``SEARCH_LAUNCHES_PER_MINUTE``;
  the refusal says when enough of them leave the window (``Retry-After``).

``check_search_limits`` raises ``QuotaExceeded`` (429). Services call it once before validating (a
refused flood costs two counts) and again inside the transaction that writes the rows, after
``lock_owner``, which is the check that holds under concurrent requests.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from webapp.quotas import QuotaExceeded
from webapp.searches.models import Search

WINDOW = timedelta(seconds=60)


def check_search_limits(owner: Any, adding: int = 1) -> None:
    """Raise ``QuotaExceeded`` unless ``owner`` may queue ``adding`` more searches now."""
    _check_active(owner, adding)
    _check_rate(owner, adding)


def active_count(owner: Any) -> int:
    return Search.objects.filter(owner=owner, status__in=Search.ACTIVE).count()


def limits_summary(owner: Any) -> dict[str, int]:
    """For the account page: searches active now and the two limits."""
    return {"active": active_count(owner), "max_active": settings.SEARCH_MAX_ACTIVE_PER_USER,
            "per_minute": settings.SEARCH_LAUNCHES_PER_MINUTE}


def _check_active(owner: Any, adding: int) -> None:
    limit = settings.SEARCH_MAX_ACTIVE_PER_USER
    active = active_count(owner)
    if active + adding <= limit:
        return
    searches = "search" if active == 1 else "searches"
    runs = "1 run" if adding == 1 else f"{adding} runs"
    raise QuotaExceeded(
        f"You have {active} {searches} queued or running, and at most {limit} may be at once; this would "
        f"add {runs}. Wait for one to finish or cancel one, then try again.")


def _check_rate(owner: Any, adding: int) -> None:
    limit = settings.SEARCH_LAUNCHES_PER_MINUTE
    now = timezone.now()
    recent = list(Search.objects.filter(owner=owner, created__gt=now - WINDOW)
                  .order_by("created").values_list("created", flat=True))
    excess = len(recent) + adding - limit
    if excess <= 0:
        return
    if adding > limit:
        raise QuotaExceeded(f"This would start {adding} runs at once; at most {limit} may start per minute.")
    wait = (recent[excess - 1] + WINDOW - now).total_seconds()
    raise QuotaExceeded(
        f"Too many searches started: at most {limit} per minute. Try again in {max(1, round(wait))} s.",
        retry_after=wait)
