"""Per-user storage quota on unpacked dataset bytes (``DATASET_QUOTA_BYTES_PER_USER``, issue 11 item 1).

A dataset's weight is what it unpacks to: for a zip the sum of the sizes its entries declare
(read from the central directory only; ``zipfile`` never inflates an entry past its declared size,
so this bounds what validation and training read; a text corpus zip too), for a .txt corpus the
file itself — and never less than the upload. Every dataset the user keeps counts, whatever its
status, since its file stays on disk. ``check_quota`` runs before the upload is stored and again
inside the transaction that creates the row (after ``lock_owner``), so two uploads at once cannot
both squeeze in.
"""

from __future__ import annotations

import zipfile
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Sum
from django.db.models.functions import Greatest
from django.template.defaultfilters import filesizeformat

from webapp.datasets.models import Dataset
from webapp.quotas import QuotaExceeded


def unpacked_bytes(uploaded_file: UploadedFile, kind: str) -> int:
    """What the upload unpacks to (see the module docstring); an unreadable zip counts its own size."""
    size = int(uploaded_file.size or 0)
    if kind != Dataset.IMAGE and not str(uploaded_file.name or "").lower().endswith(".zip"):
        return size  # a plain .txt corpus: the file itself
    try:
        uploaded_file.seek(0)
        with zipfile.ZipFile(uploaded_file) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        declared = 0
    finally:
        uploaded_file.seek(0)
    return max(size, declared)


def used_bytes(owner: Any) -> int:
    """Bytes the owner's datasets take against the quota (older rows without a count: their upload)."""
    total = Dataset.objects.filter(owner=owner).aggregate(
        total=Sum(Greatest("unpacked_bytes", "size")))["total"]
    return int(total or 0)


def check_quota(owner: Any, adding: int) -> None:
    """Raise ``QuotaExceeded`` (413, on ``file``) if ``adding`` more bytes would pass the owner's quota."""
    quota = settings.DATASET_QUOTA_BYTES_PER_USER
    used = used_bytes(owner)
    if used + adding <= quota:
        return
    raise QuotaExceeded(
        f"This upload unpacks to {_size(adding)}; your datasets already use {_size(used)} of your "
        f"{_size(quota)} storage quota. Nothing was kept; upload a smaller dataset or ask the "
        f"administrator for a larger quota.", status=413, field="file")


def _size(count: int) -> str:
    return filesizeformat(count).replace("\xa0", " ")


def quota_summary(owner: Any) -> dict[str, Any]:
    """For the account and datasets pages: used, quota and the share used (percent, at most 100)."""
    quota = settings.DATASET_QUOTA_BYTES_PER_USER
    used = used_bytes(owner)
    return {"used": used, "quota": quota, "percent": min(100, round(100 * used / quota)) if quota else 100}
