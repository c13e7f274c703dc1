"""Validating an uploaded dataset: health report, thumbnails, then ``ready`` or ``failed`` with reasons.

Bounded whatever the upload: the archive caps come from settings (``validation_limits``) and
one ``Deadline`` of ``DATASET_VALIDATION_SECONDS`` covers the report and the thumbnails, so a
hostile upload fails with a reason and frees the single datasets worker (``worker.validation_time``
is the Celery backstop).
"""

from __future__ import annotations

import logging
import shutil

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from searchcore.data import ArchiveLimits, DatasetError, inspect_image_archive, load_text_corpus, thumbnails
from searchcore.data.deadline import Deadline
from webapp.datasets.models import Dataset
from webapp.datasets.services import mark_failed, mark_validated
from worker.validation_time import fail_if_still_validating, over_time_message

logger = logging.getLogger(__name__)

MIN_CLASSES = 2


def validation_limits() -> ArchiveLimits:
    """The caps on one upload, from settings (``DATASET_MAX_*``, ``DATASET_REPORT_EXAMPLES``)."""
    return ArchiveLimits(
        max_entries=settings.DATASET_MAX_ZIP_ENTRIES,
        max_manifest_rows=settings.DATASET_MAX_MANIFEST_ROWS,
        max_path_chars=settings.DATASET_MAX_PATH_CHARS,
        max_classes=settings.DATASET_MAX_CLASSES,
        report_examples=settings.DATASET_REPORT_EXAMPLES,
    )


def validate_dataset(dataset_id: int) -> str | None:
    """Validate a ``validating`` dataset; returns its new status (``None``: nothing to do)."""
    dataset = Dataset.objects.filter(pk=dataset_id, status=Dataset.VALIDATING).first()
    if dataset is None:
        return None
    deadline = Deadline(settings.DATASET_VALIDATION_SECONDS)
    try:
        if dataset.kind == Dataset.TEXT:
            _validate_text(dataset)
        else:
            _validate_images(dataset, deadline)
    except DatasetError as exc:
        mark_failed(dataset, str(exc))
    except SoftTimeLimitExceeded:
        logger.warning("dataset %s: validation stopped by the soft time limit", dataset_id)
        fail_if_still_validating(dataset_id, over_time_message(settings.DATASET_VALIDATION_SECONDS))
    except Exception as exc:  # noqa: BLE001 - the user sees a short reason, the log the traceback
        logger.exception("dataset %s: validation crashed", dataset_id)
        mark_failed(dataset, f"Could not read the upload ({type(exc).__name__}: {exc})"[:500])
    status = Dataset.objects.filter(pk=dataset_id).values_list("status", flat=True).get()
    logger.info("dataset %s validated: %s", dataset_id, status)
    return status


def _validate_images(dataset: Dataset, deadline: Deadline) -> None:
    limits = validation_limits()
    report = inspect_image_archive(dataset.path, limits=limits, deadline=deadline)
    data = report.to_dict()
    if len(report.class_names) < MIN_CLASSES:
        mark_failed(dataset, f"Found {len(report.class_names)} class(es); a classifier needs at least "
                             f"{MIN_CLASSES}. Put each class's images in its own folder.", data)
        return
    data["thumbnails"] = _store_thumbnails(dataset, limits, deadline)
    mark_validated(dataset, data, num_classes=len(report.class_names), num_images=report.num_images)


def _validate_text(dataset: Dataset) -> None:
    corpus = load_text_corpus(dataset.path, limits=validation_limits())
    mark_validated(dataset, corpus.report.to_dict(), num_classes=None, num_images=None)


def _store_thumbnails(dataset: Dataset, limits: ArchiveLimits, deadline: Deadline) -> dict[str, list[str]]:
    """Writes ``thumbnails/<class index>_<k>.png``; returns ``{class: [file names]}`` for the report."""
    folder = dataset.thumbnails_dir
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    names: dict[str, list[str]] = {}
    previews = thumbnails(dataset.path, limits=limits, deadline=deadline)
    for index, (label, images) in enumerate(previews.items()):
        names[label] = []
        for k, png in enumerate(images):
            name = f"{index}_{k}.png"
            (folder / name).write_bytes(png)
            names[label].append(name)
    return names
