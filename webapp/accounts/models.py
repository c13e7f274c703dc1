from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_key() -> str:
    return secrets.token_hex(20)


class ApiToken(models.Model):
    """One API key per user, shown on the account page; scripts send ``Authorization: Token <key>``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    key = models.CharField(max_length=64, unique=True, default=new_key)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.user}"
