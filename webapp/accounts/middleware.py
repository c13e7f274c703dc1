"""Websocket authentication: ``Authorization: Token <key>`` besides the session cookie.

Stack (``webapp/asgi.py``): ``TokenOrOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(router)))``.
The token middleware sits *inside* the session stack so it can replace the session's user
(channels' ``AuthMiddleware`` would otherwise write into whatever user object it finds).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

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


class TokenOrOriginValidator:
    """Refuses a websocket handshake whose ``Origin`` is not this site (scheme, host *and* port).

    Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page served from
    another port of the same machine (``http://127.0.0.1:9999``) could open a socket with the
    user's session cookie. Here the Origin must equal the origin the request was made to (its
    scheme and ``Host`` header, the host one of ``ALLOWED_HOSTS``) or one of
    ``WEBSOCKET_ALLOWED_ORIGINS`` (default ``CSRF_TRUSTED_ORIGINS``).

    Browsers always send ``Origin`` on a websocket handshake and cannot add an ``Authorization``
    header, so a handshake with a token and no Origin is a script; the cross-site check protects
    cookie sessions and has nothing to protect there. A *wrong* Origin is refused either way.
    """

    def __init__(self, application: Any, trusted: list[str]) -> None:
        self.application = application
        self.trusted = {o for o in (_normalise(t) for t in trusted) if o is not None}

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        origin = scope_header(scope, b"origin")
        if origin is None and token_from_header(scope_header(scope, b"authorization")):
            return await self.application(scope, receive, send)
        if origin is not None and self.allowed(scope, origin):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def allowed(self, scope: dict[str, Any], origin: str) -> bool:
        wanted = _normalise(origin)
        if wanted is None:
            return False
        if wanted in self.trusted:
            return True
        host = scope_header(scope, b"host")
        if not host or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return False
        scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
        return wanted == _normalise(f"{scheme}://{host}")


def _normalise(origin: str) -> tuple[str, str, int] | None:
    """``scheme://host[:port]`` -> (scheme, host, port with the scheme's default filled in)."""
    try:
        parsed = urlsplit(origin.strip())
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    return parsed.scheme, parsed.hostname.lower(), port or (443 if parsed.scheme == "https" else 80)


def origin_validator(application: Any) -> TokenOrOriginValidator:
    return TokenOrOriginValidator(application, list(settings.WEBSOCKET_ALLOWED_ORIGINS))
