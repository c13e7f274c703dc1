"""Per-user limits shared by the apps: the refusal they raise and the lock that makes a check hold.

A limit is checked and the new rows are written in one transaction. Two requests of one user
(perhaps in two web processes) must not both pass a check that only one of them fits: on
PostgreSQL ``lock_owner`` takes the user's row ``FOR UPDATE``; SQLite runs every transaction
``IMMEDIATE`` (``webapp/settings.py``), so writers are serialised already and Django leaves the
``FOR UPDATE`` out.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError


class QuotaExceeded(ValidationError):
    """A request refused by a per-user limit; nothing was stored.

    A ``ValidationError`` (``{field: [message]}``) so that every page that shows a refused request's
    messages shows this one too; the API answers ``status`` (429 or 413) with ``Retry-After`` when
    waiting helps (``retry_after`` seconds)."""

    def __init__(self, message: str, *, status: int = 429, retry_after: float | None = None,
                 field: str = "__all__") -> None:
        super().__init__({field: [message]})
        self.message_text = message
        self.status = status
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))


def lock_owner(owner: Any) -> None:
    """Serialise this transaction's limit check with the same user's others (call inside ``atomic``)."""
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))


def retry_after_header(exc: QuotaExceeded) -> dict[str, str]:
    """``{"Retry-After": seconds}`` when waiting helps, else nothing."""
    return {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
