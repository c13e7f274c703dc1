from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """One Celery worker as it last reported itself (``worker/dispatcher.py`` writes it every
    ``WORKER_BEAT_SECONDS`` from the worker's main process, deletes it on a clean stop). A worker that
    crashed keeps its row: it shows as lost once ``seen_at`` is older than ``WORKER_LOST_SECONDS``."""

    name = models.CharField(max_length=200, unique=True)  # Celery node name, e.g. gpu0@host
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField(default=0)
    queues = models.JSONField(default=list)
    device_class = models.CharField(max_length=8, blank=True)  # cpu / gpu; "" for datasets only
    gpus = models.CharField(max_length=100, blank=True)  # its CUDA_VISIBLE_DEVICES
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
