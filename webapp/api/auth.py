"""``api_view``: token-or-session authentication, CSRF for sessions, JSON errors for everything.

A request with ``Authorization: Token <key>`` is authenticated by the key alone and needs no
CSRF token (a browser cannot send that header cross-site). Without it the session must be
signed in, and unsafe methods must pass Django's CSRF check. Validation errors become 400
``{"errors": {field: [messages]}}``, a per-user limit its status (429 with ``Retry-After`` when
waiting helps, 413 for the storage quota) with ``error`` and ``errors``, missing objects 404,
never an HTML page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from webapp.accounts.services import token_from_header, user_for_token
from webapp.jsonbody import JsonBodyError, parse_json_body
from webapp.quotas import QuotaExceeded, retry_after_header

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class BadRequest(Exception):
    """A request the API cannot read (e.g. a body that is not JSON); the message goes to the client."""


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def json_error(status: int, message: str, headers: dict[str, str] | None = None,
               **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status, headers=headers)


def read_json(request: HttpRequest) -> Any:
    try:
        return parse_json_body(request.body)
    except JsonBodyError as exc:
        raise BadRequest(str(exc)) from exc


def _authenticate(request: HttpRequest) -> HttpResponse | None:
    key = token_from_header(request.headers.get("Authorization"))
    if key is not None:
        user = user_for_token(key)
        if user is None:
            return json_error(401, "Invalid API token.")
        request.user = user
        return None
    if not request.user.is_authenticated:
        return json_error(401, "Sign in, or send 'Authorization: Token <key>' (see your account page).")
    if request.method not in SAFE_METHODS:
        check = _CsrfCheck(lambda r: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            return json_error(403, f"CSRF check failed: {reason}")
    return None


def api_view(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    allowed = tuple(m.upper() for m in methods)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = json_error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(allowed)
                return response
            denied = _authenticate(request)
            if denied is not None:
                return denied
            try:
                return view(request, *args, **kwargs)
            except QuotaExceeded as exc:
                return json_error(exc.status, exc.message_text, errors=exc.message_dict,
                                  headers=retry_after_header(exc))
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                return JsonResponse({"errors": errors}, status=400)
            except BadRequest as exc:
                return json_error(400, str(exc))
            except Http404:
                return json_error(404, "Not found.")

        return wrapper

    return decorator
