"""Request-body limits enforced while the body streams in, before Django spools it to disk.

Django's ASGI handler reads the *whole* body into a temporary file before any view runs, so a
view-level size check answers a 2 GB upload only after 2 GB were written to ``/tmp``. This ASGI
wrapper answers 413 at once when ``Content-Length`` is over the limit, and as soon as the
counted bytes pass it when there is none (chunked bodies); Django never sees such a request.
Dataset uploads get ``DATASET_MAX_UPLOAD_BYTES`` (plus room for the multipart framing), every
other request ``REQUEST_MAX_BYTES``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

MULTIPART_SLACK = 64 * 1024  # boundaries, part headers and the small form fields around the file
UPLOAD_PATHS = ("/api/datasets/", "/datasets/new")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


def limit_for(path: str) -> int:
    if path in UPLOAD_PATHS:
        return settings.DATASET_MAX_UPLOAD_BYTES + MULTIPART_SLACK
    return settings.REQUEST_MAX_BYTES


def too_large_message(path: str) -> str:
    if path in UPLOAD_PATHS:
        return f"The file is larger than the {_size(settings.DATASET_MAX_UPLOAD_BYTES)} upload limit."
    return f"The request body is larger than the {_size(settings.REQUEST_MAX_BYTES)} limit."


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitApp:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = limit_for(path)
        length = _content_length(scope)
        if length is not None and length > limit:
            return await _reject(path, send)
        received = 0

        async def counted() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:  # raised while Django reads the body: no response has started yet
            await _reject(path, send)


async def _reject(path: str, send: Send) -> None:
    message = too_large_message(path)
    body = json.dumps({"error": message, "errors": {"file": [message]}}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
