"""A grayscale 28x28 upload through the worker with default settings: report -> search -> package.

Validation records the native format; a search that names no side or colour stores them as
"auto" and the runner's search, final training and package all use 1 channel at 28x28.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.datasets.models import Dataset
from webapp.datasets.services import create_dataset
from webapp.searches.models import Search, TrainedModel
from webapp.searches.services import create_search
from worker import lease
from worker.datasets import validate_dataset
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
GRAY = Path(__file__).resolve().parents[1] / "fixtures" / "gray28_png.zip"


@pytest.fixture(autouse=True)
def _cpu_and_no_pushes(settings: Any) -> Any:
    settings.NAS_DEVICE = "cpu"
    with mock.patch("webapp.searches.realtime.publish"):
        yield


def test_a_default_search_on_a_grayscale_upload_trains_and_packages_one_channel(user, enqueued) -> None:
    dataset = create_dataset(user, "digits", SimpleUploadedFile("digits.zip", GRAY.read_bytes()))
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    assert dataset.report["native"] == {"image_size": 28, "grayscale": True}
    assert dataset.report["modes"] == {"L": 24} and dataset.report["channels"] == 1

    search = create_search(user, {
        "dataset": dataset.pk, "space": "nb201", "space_options": {"channels": 4, "cells_per_stage": 1},
        "evaluator": "shared", "budget": {"max_epochs": 1}, "final_budget": {"epochs": 1},
        "batch_size": 8, "controller_steps_per_epoch": 2, "derive_samples": 2})
    assert (search.config["image_size"], search.config["grayscale"]) == (None, None)
    claim = lease.claim(search.pk)
    status = run_claimed_search(search.pk, claim.owner)
    search.refresh_from_db()
    # a one-epoch model may be judged at chance (a failed run that keeps its package), never a crash
    assert status in (Search.SUCCEEDED, Search.FAILED), search.message
    assert status == Search.SUCCEEDED or "chance" in search.message, search.message

    train_config = json.loads((search.directory / "final" / "train_config.json").read_text())
    assert (train_config["image_size"], train_config["grayscale"]) == (28, True)  # resolved, explicit
    package = Path(django_settings.MEDIA_ROOT) / TrainedModel.objects.get(search=search).package.name
    with zipfile.ZipFile(package) as zf:
        prep = json.loads(zf.read("preprocessing.json"))
    assert (prep["image_size"], prep["channels"], prep["grayscale"]) == (28, 1, True)
