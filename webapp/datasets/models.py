from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models


class DatasetQuerySet(models.QuerySet):
    def for_owner(self, user: Any) -> DatasetQuerySet:
        """Every query of the web app goes through this: users only ever see their own datasets."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Dataset(models.Model):
    IMAGE, TEXT = "image", "text"
    KINDS = [(IMAGE, "Images"), (TEXT, "Text corpus")]
    VALIDATING, READY, FAILED = "validating", "ready", "failed"
    STATUSES = [(VALIDATING, "Validating"), (READY, "Ready"), (FAILED, "Failed")]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=KINDS, default=IMAGE)
    status = models.CharField(max_length=16, choices=STATUSES, default=VALIDATING)
    file = models.FileField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    # what the upload unpacks to, counted against DATASET_QUOTA_BYTES_PER_USER (webapp/datasets/quota.py)
    unpacked_bytes = models.BigIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    num_classes = models.PositiveIntegerField(null=True, blank=True)
    num_images = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def directory(self) -> Path:
        """``MEDIA_ROOT/datasets/<id>/``: the upload and its thumbnails."""
        return Path(settings.MEDIA_ROOT) / "datasets" / str(self.pk)

    @property
    def path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / self.file.name

    @property
    def thumbnails_dir(self) -> Path:
        return self.directory / "thumbnails"

    def thumbnail_path(self, name: str) -> Path | None:
        """The file for thumbnail ``name`` if validation listed it in the report and it lies inside
        ``thumbnails_dir``; ``None`` for anything else (the page and the API then answer 404)."""
        listed = {n for names in ((self.report or {}).get("thumbnails") or {}).values() for n in names}
        if name not in listed:
            return None
        root = self.thumbnails_dir.resolve()
        path = (root / name).resolve()
        return path if root in path.parents and path.is_file() else None

    @property
    def is_ready(self) -> bool:
        return self.status == self.READY
