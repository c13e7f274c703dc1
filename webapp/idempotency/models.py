from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One creation request's key: stored in the creation's own transaction, so it exists exactly when
    the object does; the unique constraint makes a concurrent second request with the key wait, fail,
    and answer with the first one's object."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=32)  # what was created: "searches", "datasets"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of the request, to refuse a reused key
    object_id = models.BigIntegerField(null=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "scope", "key"], name="one_object_per_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} -> {self.object_id}"
