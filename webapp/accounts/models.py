from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def new_key() -> str:
    return secrets.token_hex(20)


def hash_key(key: str) -> str:
    """What is stored: a SHA-256 of the key (160 random bits need no slow hash or salt)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """One API key per user; only its SHA-256 is stored, the key is shown once when it is made.

    Scripts send ``Authorization: Token <key>``; ``prefix`` (the key's first characters) lets the
    account page say which key is current without being able to show it.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.user}"
