"""Login throttling: failed sign-ins counted per user name and per client IP in the shared cache.

The web tier runs several processes, so the counters live in Django's cache backed by the
project's Redis (``CACHES``). ``blocked`` is asked *before* the password hash is computed: a
throttled attempt costs a cache read, not ~0.5 s of PBKDF2, so a flood of guesses is no CPU
denial of service either. Each counter is a fixed window of ``LOGIN_THROTTLE_SECONDS`` from its
first failure. Should the cache be unreachable the check lets the attempt through (and logs it):
signing in keeps working, unthrottled, while Redis is down.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
CACHE_ERRORS = (OSError, RedisError)


def client_ip(request: HttpRequest | None) -> str:
    """The peer address (uvicorn puts a trusted proxy's X-Forwarded-For there itself)."""
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"


def _keys(username: str | None, ip: str) -> tuple[str, str]:
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:user:{name}", f"login-fail:ip:{ip}"


def blocked(username: str | None, ip: str) -> bool:
    user_key, ip_key = _keys(username, ip)
    try:
        counts = cache.get_many([user_key, ip_key])
    except CACHE_ERRORS as exc:
        logger.warning("login throttle unavailable (%s): attempt not throttled", type(exc).__name__)
        return False
    return (counts.get(user_key, 0) >= settings.LOGIN_FAILURES_PER_USER
            or counts.get(ip_key, 0) >= settings.LOGIN_FAILURES_PER_IP)


def record_failure(username: str | None, ip: str) -> None:
    try:
        for key in _keys(username, ip):
            cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_SECONDS)
            cache.incr(key)
    except (*CACHE_ERRORS, ValueError) as exc:  # ValueError: the key expired between add and incr
        logger.warning("login throttle could not count a failure (%s)", type(exc).__name__)


def clear(username: str | None, ip: str) -> None:
    """A successful sign-in forgets that user's failures (the IP's stay counted)."""
    try:
        cache.delete(_keys(username, ip)[0])
    except CACHE_ERRORS as exc:
        logger.warning("login throttle could not clear (%s)", type(exc).__name__)


def retry_minutes() -> int:
    return max(1, round(settings.LOGIN_THROTTLE_SECONDS / 60))
