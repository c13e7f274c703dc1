"""``ThrottledModelBackend``: Django's model backend behind the login throttle (``throttle.py``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from webapp.accounts import throttle

THROTTLED = "login_throttled"  # request attribute the login view reads to answer 429


class ThrottledModelBackend(ModelBackend):
    """Refuses (``PermissionDenied``: no other backend is tried) before hashing when throttled."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        ip = throttle.client_ip(request)
        if throttle.blocked(username, ip):
            if request is not None:
                setattr(request, THROTTLED, True)
            raise PermissionDenied("too many failed sign-in attempts")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.record_failure(username, ip)
        else:
            throttle.clear(username, ip)
        return user
