"""Websocket authentication: ``Authorization: Token <key>`` besides the session cookie.

Stack (``webapp/asgi.py``): ``TokenOrOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(router)))``.
The token middleware sits *inside* the session stack so it can replace the session's user
(channels' ``AuthMiddleware`` would otherwise write into whatever user object it finds).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from webapp.accounts.services import token_from_header, user_for_token


def scope_header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


class TokenAuthMiddleware(BaseMiddleware):
    """A valid token header sets ``scope["user"]``; a bad one makes the connection anonymous."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        key = token_from_header(scope_header(scope, b"authorization"))
        if key is not None:
            user = await database_sync_to_async(user_for_token)(key)
            scope = dict(scope, user=user or AnonymousUser())
        return await super().__call__(scope, receive, send)


class TokenOrOriginValidator(OriginValidator):
    """``AllowedHostsOriginValidator`` that also lets token-carrying scripts in without an Origin.

    Browsers always send ``Origin`` on a websocket handshake and cannot add an ``Authorization``
    header, so a handshake with a token and no Origin is a script; the cross-site check protects
    cookie sessions and has nothing to protect there. A *wrong* Origin is refused either way.
    """

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        if scope_header(scope, b"origin") is None and token_from_header(
            scope_header(scope, b"authorization")
        ):
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)


def origin_validator(application: Any) -> TokenOrOriginValidator:
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return TokenOrOriginValidator(application, allowed)
