from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task message not yet handed to the broker: written in the same transaction as its row,
    deleted once ``send_task`` returned. A row left here (the broker was down) is sent by the
    workers' dispatcher (``worker/dispatcher.py``)."""

    task = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["task", "object_id"], name="outbox_task_object_idx")]

    def __str__(self) -> str:
        return f"{self.task}({self.object_id})"
