"""Validating an uploaded dataset: health report, thumbnails, then ``ready`` or ``failed`` with reasons."""

from __future__ import annotations

import logging
import shutil

from searchcore.data import DatasetError, inspect_image_archive, load_text_corpus, thumbnails
from webapp.datasets.models import Dataset
from webapp.datasets.services import mark_failed, mark_validated

logger = logging.getLogger(__name__)

MIN_CLASSES = 2


def validate_dataset(dataset_id: int) -> str | None:
    """Validate a ``validating`` dataset; returns its new status (``None``: nothing to do)."""
    dataset = Dataset.objects.filter(pk=dataset_id, status=Dataset.VALIDATING).first()
    if dataset is None:
        return None
    try:
        if dataset.kind == Dataset.TEXT:
            _validate_text(dataset)
        else:
            _validate_images(dataset)
    except DatasetError as exc:
        mark_failed(dataset, str(exc))
    except Exception as exc:  # noqa: BLE001 - the user sees a short reason, the log the traceback
        logger.exception("dataset %s: validation crashed", dataset_id)
        mark_failed(dataset, f"Could not read the upload ({type(exc).__name__}: {exc})"[:500])
    status = Dataset.objects.filter(pk=dataset_id).values_list("status", flat=True).get()
    logger.info("dataset %s validated: %s", dataset_id, status)
    return status


def _validate_images(dataset: Dataset) -> None:
    report = inspect_image_archive(dataset.path)
    data = report.to_dict()
    if len(report.class_names) < MIN_CLASSES:
        mark_failed(dataset, f"Found {len(report.class_names)} class(es); a classifier needs at least "
                             f"{MIN_CLASSES}. Put each class's images in its own folder.", data)
        return
    data["thumbnails"] = _store_thumbnails(dataset)
    mark_validated(dataset, data, num_classes=len(report.class_names), num_images=report.num_images)


def _validate_text(dataset: Dataset) -> None:
    corpus = load_text_corpus(dataset.path)
    mark_validated(dataset, corpus.report.to_dict(), num_classes=None, num_images=None)


def _store_thumbnails(dataset: Dataset) -> dict[str, list[str]]:
    """Writes ``thumbnails/<class index>_<k>.png``; returns ``{class: [file names]}`` for the report."""
    folder = dataset.thumbnails_dir
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    names: dict[str, list[str]] = {}
    for index, (label, images) in enumerate(thumbnails(dataset.path).items()):
        names[label] = []
        for k, png in enumerate(images):
            name = f"{index}_{k}.png"
            (folder / name).write_bytes(png)
            names[label].append(name)
    return names
