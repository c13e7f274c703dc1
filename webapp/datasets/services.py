"""Dataset services: check an upload, stream it into ``MEDIA_ROOT/datasets/<id>/``, enqueue validation.

The upload is never read into memory: Django spools anything above
``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file, which is *moved* into place; small
in-memory uploads are written chunk by chunk.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from webapp.datasets.models import Dataset
from webapp.datasets.quota import check_quota, unpacked_bytes
from webapp.outbox.services import enqueue_on_commit
from webapp.quotas import lock_owner
from webapp.redaction import redact_paths

logger = logging.getLogger(__name__)

VALIDATE_TASK = "worker.tasks.validate_dataset"
KIND_BY_SUFFIX = {".zip": Dataset.IMAGE, ".txt": Dataset.TEXT}
TEXT_SPLIT_FILES = {"train.txt", "valid.txt", "test.txt"}
MAX_NAME = 200


def create_dataset(
    owner: Any, name: str, uploaded_file: UploadedFile | None, kind: str | None = None
) -> Dataset:
    """Store an upload as a new ``validating`` dataset; validation runs in the worker after commit.

    Past the owner's storage quota: ``QuotaExceeded`` (413), no row and no file."""
    kind, filename, name = _check_upload(name, uploaded_file, kind)
    unpacked = unpacked_bytes(uploaded_file, kind)
    check_quota(owner, unpacked)
    with transaction.atomic():
        lock_owner(owner)
        check_quota(owner, unpacked)
        dataset = Dataset.objects.create(owner=owner, name=name, kind=kind, size=uploaded_file.size,
                                         unpacked_bytes=unpacked)
        relative = f"datasets/{dataset.pk}/{filename}"
        try:
            _store(uploaded_file, Path(settings.MEDIA_ROOT) / relative)
        except OSError:
            shutil.rmtree(dataset.directory, ignore_errors=True)
            raise
        dataset.file.name = relative
        dataset.save(update_fields=["file"])
        enqueue_on_commit(VALIDATE_TASK, dataset.pk)
    logger.info("dataset %s uploaded by %s (%s bytes)", dataset.pk, owner, dataset.size)
    return dataset


def _check_upload(name: str, uploaded_file: UploadedFile | None, kind: str | None) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    if uploaded_file is None:
        raise ValidationError({"file": ["Choose a file to upload."]})
    filename = get_valid_filename(Path(uploaded_file.name or "upload").name)[-100:] or "upload"
    suffix = Path(filename).suffix.lower()
    if suffix not in KIND_BY_SUFFIX:
        errors["file"] = ["Upload a .zip of images (class folders or a CSV manifest) or a .txt corpus."]
    elif uploaded_file.size == 0:
        errors["file"] = ["The file is empty."]
    elif uploaded_file.size > settings.DATASET_MAX_UPLOAD_BYTES:
        limit = settings.DATASET_MAX_UPLOAD_BYTES / 1024**3
        errors["file"] = [f"The file is larger than the {limit:.3g} GiB limit."]
    elif suffix == ".zip" and not _looks_like_zip(uploaded_file):
        errors["file"] = ["This is not a readable zip archive."]
    if kind is None and suffix == ".zip" and not errors and _zip_holds_text(uploaded_file):
        kind = Dataset.TEXT
    kind = kind or KIND_BY_SUFFIX.get(suffix, Dataset.IMAGE)
    if kind not in dict(Dataset.KINDS):
        errors["kind"] = [f"Kind must be one of {', '.join(dict(Dataset.KINDS))}."]
    name = (name or "").strip() or Path(filename).stem
    if len(name) > MAX_NAME:
        errors["name"] = [f"At most {MAX_NAME} characters."]
    if errors:
        raise ValidationError(errors)
    return kind, filename, name


def _looks_like_zip(uploaded_file: UploadedFile) -> bool:
    """Reads only the end-of-archive record, not the archive."""
    try:
        uploaded_file.seek(0)
        return zipfile.is_zipfile(uploaded_file)
    finally:
        uploaded_file.seek(0)


def _zip_holds_text(uploaded_file: UploadedFile) -> bool:
    """A zip is a text corpus when it names a split file (``train.txt``/``valid.txt``/``test.txt``)
    or every file in it is a ``.txt`` (read from the central directory only)."""
    try:
        uploaded_file.seek(0)
        with zipfile.ZipFile(uploaded_file) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/") and "__MACOSX" not in n
                     and not Path(n).name.startswith(".")]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        uploaded_file.seek(0)
    lowered = [Path(n).name.lower() for n in names]
    if any(n in TEXT_SPLIT_FILES for n in lowered):
        return True
    return bool(lowered) and all(n.endswith(".txt") for n in lowered)


def _store(uploaded_file: UploadedFile, dest: Path) -> None:
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary_path = getattr(uploaded_file, "temporary_file_path", None)
    if temporary_path is not None:
        uploaded_file.file.flush()
        file_move_safe(temporary_path(), str(dest), allow_overwrite=True)
        dest.chmod(0o600)
        return
    with os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        for chunk in uploaded_file.chunks():
            out.write(chunk)


def mark_validated(dataset: Dataset, report: dict[str, Any], *, num_classes: int | None,
                   num_images: int | None) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(
        status=Dataset.READY, report=report, error="", num_classes=num_classes, num_images=num_images,
        validated_at=timezone.now(),
    )


def mark_failed(dataset: Dataset, error: str, report: dict[str, Any] | None = None) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(
        status=Dataset.FAILED, error=redact_paths(error)[:2000], report=report or {},
        validated_at=timezone.now(),
    )
