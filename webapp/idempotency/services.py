"""Creating at most one object per ``Idempotency-Key`` (per user and kind of object).

A client that lost the answer to a POST (timeout, 5xx from a proxy, a broker outage) retries with
the same key and gets the first request's object back instead of a duplicate. The key row is
written *before* the object, in one transaction with it: if the creation fails, neither is kept
(the key can be used again); if two requests with one key race, the database's unique constraint
lets one through and the other then reads the winner's object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from webapp.idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def key_from(headers: Mapping[str, str]) -> str | None:
    """The request's key (``None`` without one); a key that is empty, too long or not printable
    ASCII is a 400."""
    key = headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise ValidationError({HEADER: [f"Give 1 to {MAX_KEY_LENGTH} printable ASCII characters."]})
    return key


def fingerprint(request_data: Any) -> str:
    """A stable hash of what was asked for (JSON-able), to tell a retry from a reused key."""
    text = json.dumps(request_data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def create_once(owner: Any, scope: str, key: str | None, request_fingerprint: str,
                create: Callable[[], models.Model]) -> tuple[int, bool]:
    """``(object id, replayed)``: ``create()`` runs unless ``key`` already made an object (then that
    object's id and ``True``). ``create`` raising leaves no key behind."""
    if key is None:
        return create().pk, False
    found = _earlier(owner, scope, key, request_fingerprint)
    if found is not None:
        return found, True
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(owner=owner, scope=scope, key=key,
                                                   fingerprint=request_fingerprint)
            made = create()
            record.object_id = made.pk
            record.save(update_fields=["object_id"])
    except IntegrityError:  # a concurrent request with this key committed first
        found = _earlier(owner, scope, key, request_fingerprint)
        if found is None:
            raise
        return found, True
    return made.pk, False


def _earlier(owner: Any, scope: str, key: str, request_fingerprint: str) -> int | None:
    record = IdempotencyKey.objects.filter(owner=owner, scope=scope, key=key).first()
    if record is None or record.object_id is None:
        return None
    if record.fingerprint != request_fingerprint:
        raise ValidationError({HEADER: ["This key was already used for a different request; "
                                        "use a new key for a new request."]})
    return record.object_id
