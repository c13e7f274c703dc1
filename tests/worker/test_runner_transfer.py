"""A transfer through the API and the real worker: a search on the tiny CIFAR zip, its cells trained
on the grayscale 28 px zip (3 classes) at a larger size, packaged, and the pages linking the two.

The source search runs in searchcore (its own final training and ONNX export would double the test's
time and are covered by the worker's other tests); the transfer runs through the worker.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from searchcore.config import SearchConfig
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec, create_space
from tests.worker.conftest import TINY_ZIP
from webapp.accounts.services import regenerate_token
from webapp.datasets.models import Dataset
from webapp.datasets.services import create_dataset
from webapp.searches.models import Search, SearchEvent, TrainedModel
from webapp.searches.services import create_search
from worker import lease
from worker.datasets import validate_dataset
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
GRAY_ZIP = TINY_ZIP.parent / "gray28_png.zip"
SEARCH_EVENTS = {"controller_step", "arch_sampled", "child_train"}
OPTIONS = {"channels": 4, "cells_per_stage": 1, "num_nodes": 2}


@pytest.fixture(autouse=True)
def _cpu(cpu_no_pushes: Any) -> Any:
    return cpu_no_pushes


def _run(search: Search) -> str | None:
    claim = lease.claim(search.pk)
    # a one-epoch model on a few images may land at chance (a failed run); the verdict has its own tests
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        return run_claimed_search(search.pk, claim.owner)


def _searched(user: Any, images: Dataset, tmp_path: Any) -> Search:
    """A succeeded enas-micro search of the tiny CIFAR zip (16 px, RGB, 10 classes), as a worker leaves it."""
    source = create_search(user, {
        "dataset": images.pk, "name": "cifar cells", "space": "enas-micro", "space_options": OPTIONS,
        "budget": {"max_epochs": 1}, "final_budget": {"epochs": 1}, "image_size": 16, "batch_size": 16,
        "controller_steps_per_epoch": 2, "derive_samples": 2})
    config = SearchConfig(**{k: v for k, v in source.config.items() if k != "final"}, data=str(images.path),
                          device="cpu")
    result = run_search(config, tmp_path / "search")
    assert result.status == Search.SUCCEEDED
    Search.objects.filter(pk=source.pk).update(status=Search.SUCCEEDED, best=result.to_dict()["best"])
    source.refresh_from_db()
    return source


def test_a_searchs_cells_train_on_another_dataset_larger_and_the_pages_link_them(user, images, enqueued,
                                                                                 tmp_path) -> None:
    source = _searched(user, images, tmp_path)
    gray = create_dataset(user, "gray bars", SimpleUploadedFile("gray.zip", GRAY_ZIP.read_bytes()))
    assert validate_dataset(gray.pk) == Dataset.READY

    api = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    body = {"dataset": gray.pk, "final_budget": {"epochs": 1}, "image_size": 20,
            "final": {"channels": 6, "cells_per_stage": 2, "batch_size": 8}}
    response = api.post(f"/api/searches/{source.pk}/transfers", json.dumps(body),
                        content_type="application/json")
    assert response.status_code == 201, response.json()
    transfer = Search.objects.get(pk=response.json()["id"])
    assert _run(transfer) == Search.SUCCEEDED
    transfer.refresh_from_db()
    assert transfer.message.startswith("Training finished; test accuracy ") and transfer.progress == 1.0
    arch = {"space": "enas-micro", **source.best["architecture"]}
    assert transfer.best["architecture"] == arch and transfer.best["reward"] is None

    events = list(SearchEvent.objects.filter(search=transfer).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert not {e.type for e in events} & SEARCH_EVENTS and events[-1].type == "finished"
    assert not (transfer.directory / "search").exists()  # nothing was searched
    train_config = json.loads((transfer.directory / "final" / "train_config.json").read_text())
    assert train_config["arch"] == arch and train_config["init"] == "scratch"
    assert (train_config["image_size"], train_config["grayscale"]) == (20, True)  # resolved on the new data
    overrides = train_config["child_overrides"]
    assert (overrides["channels"], overrides["cells_per_stage"]) == (6, 2)
    with zipfile.ZipFile(transfer.directory / "package.zip") as zf:
        prep = json.loads(zf.read("preprocessing.json"))
        assert json.loads(zf.read("architecture.json")) == arch
    assert prep["task"] == {"kind": "image", "in_channels": 1, "image_size": 20, "num_classes": 3}
    assert prep["class_names"] == ["bottom", "middle", "top"]
    space = create_space("enas-micro", **OPTIONS)
    searched = space.build_child(space.arch_from_json(arch), TaskSpec.image(1, 20, 3))
    searched_params = sum(p.numel() for p in searched.parameters())
    assert TrainedModel.objects.get(search=transfer).metrics["params"] > searched_params  # wider and deeper

    pages = Client()
    pages.force_login(user)
    page = pages.get(f"/searches/{transfer.pk}/results").content.decode()
    assert f'data-testid="transfer-source-link" href="/searches/{source.pk}/results"' in page
    assert "This run trained the architecture found by" in page and "on gray bars, from scratch." in page
    back = pages.get(f"/searches/{source.pk}/results").content.decode()
    listed = f'<a data-testid="transfer-link" href="/searches/{transfer.pk}/results">{transfer.name}</a>'
    assert listed in back
    assert 'id="transfer-form"' in back and f'<option value="{gray.pk}">gray bars</option>' in back
    live = pages.get(f"/searches/{transfer.pk}/").content.decode()
    assert f'href="/searches/{source.pk}/results">cifar cells</a>' in live
