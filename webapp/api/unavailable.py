"""503 with ``Retry-After`` when the database cannot take a write (locked past its timeout, down).

The one case where a creation is refused for a fault of ours: nothing was stored, so the client
must retry (with its ``Idempotency-Key`` that cannot make a duplicate). A broker outage is *not*
such a case: the row is stored and its message waits in the outbox (``webapp.outbox``), so the
API answers 201 with ``"queue": "pending"``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable_is_503(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except OperationalError:
            logger.exception("database unavailable during %s %s", request.method, request.path)
            response = JsonResponse({"error": "The database is unavailable right now; nothing was saved. "
                                              f"Try again in {RETRY_AFTER_SECONDS} s."}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response

    return wrapper
