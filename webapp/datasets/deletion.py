"""Deleting a dataset: how a user frees space under the storage quota (``webapp.datasets.quota``).

Refused, with the reason, while the worker is still validating it (it reads the file) and while any
search refers to it (a search keeps its dataset: its results, re-runs and controls read it). The row
goes in one transaction; the folder (upload, thumbnails) after the commit, so a failed delete
keeps both.
"""

from __future__ import annotations

import logging
import shutil

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from webapp.datasets.models import Dataset

logger = logging.getLogger(__name__)


def deletion_problem(dataset: Dataset) -> str | None:
    """Why ``dataset`` cannot be deleted now, in words; ``None`` when it can."""
    if dataset.status == Dataset.VALIDATING:
        return "It is still being validated; delete it once that is done."
    used = dataset.searches.count()
    if used:
        runs = "search uses" if used == 1 else "searches use"
        return f"{used} {runs} this dataset; a dataset is kept while a search refers to it."
    return None


def delete_dataset(dataset: Dataset) -> None:
    """Delete the row, then its folder; ``ValidationError`` (nothing deleted) when ``deletion_problem``."""
    problem = deletion_problem(dataset)
    if problem:
        raise ValidationError({"dataset": [problem]})
    folder = dataset.directory
    try:
        with transaction.atomic():
            Dataset.objects.filter(pk=dataset.pk).delete()
            transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
    except ProtectedError:  # a search was made on it meanwhile
        raise ValidationError({"dataset": [deletion_problem(dataset) or "A search uses it."]}) from None
    logger.info("dataset %s deleted by %s", dataset.pk, dataset.owner_id)
