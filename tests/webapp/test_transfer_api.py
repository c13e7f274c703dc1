"""Transfers through the JSON API: a finished search's architecture queued on another dataset, checked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.datasets.models import Dataset
from webapp.searches.models import Search
from webapp.searches.services import create_search, rerun_search

pytestmark = pytest.mark.django_db
RUN = "worker.tasks.run_search"
ARCH = {"space": "enas-micro", "normal": [[0, "sep3", 1, "max3"], [2, "identity", 0, "avg3"]],
        "reduce": [[1, "avg3", 0, "sep5"], [0, "max3", 2, "sep3"]]}
GRAY_REPORT = {"image_sizes": {"28x28": 24}, "modes": {"L": 24}}


def _client(user: Any) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _source(user: Any, dataset: Any, *, status: str = Search.SUCCEEDED, best: Any = "arch") -> Search:
    search = create_search(user, {
        "dataset": dataset.pk, "name": "cells", "space": "enas-micro", "seed": 7,
        "space_options": {"num_nodes": 2, "channels": 4, "cells_per_stage": 1},
        "budget": {"max_epochs": 1}, "final_budget": {"epochs": 1}})
    best = {"architecture": {k: v for k, v in ARCH.items() if k != "space"}, "reward": 0.3,
            "degenerate": []} if best == "arch" else best
    Search.objects.filter(pk=search.pk).update(status=status, best=best)
    search.refresh_from_db()
    return search


@pytest.fixture
def gray(user: Any) -> Dataset:
    return Dataset.objects.create(owner=user, name="gray bars", status=Dataset.READY, num_classes=3,
                                  num_images=24, file="datasets/g/gray28.zip", report=GRAY_REPORT)


def _post(client: Client, source: Search, body: Any) -> Any:
    return client.post(f"/api/searches/{source.pk}/transfers", json.dumps(body),
                       content_type="application/json")


def test_a_transfer_is_queued_with_the_sources_architecture_and_the_sizes_asked(
        user, ready_dataset, gray, enqueued, django_capture_on_commit_callbacks) -> None:
    source = _source(user, ready_dataset)
    client = _client(user)
    body = {"dataset": gray.pk, "final_budget": "3m", "image_size": 20,
            "final": {"channels": 16, "cells_per_stage": 3, "drop_path": 0.2}}
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, source, body)
    assert response.status_code == 201, response.json()
    new = Search.objects.get(pk=response.json()["id"])
    assert response.json() == {"id": new.pk, "status": "queued", "transfer_of": source.pk}
    assert enqueued == [(RUN, [new.pk])]
    assert (new.owner, new.dataset, new.transfer_of, new.name) == (user, gray, source, "cells → gray bars")
    config = new.config
    assert config["transfer"] == {"search": source.pk, "architecture": ARCH}
    assert (config["space"], config["space_options"]) == ("enas-micro", source.config["space_options"])
    assert (config["image_size"], config["grayscale"], config["seed"]) == (20, None, 7)  # the source's seed
    assert (config["budget_seconds"], config["max_archs"], config["max_epochs"]) == (None, None, None)
    final = config["final"]
    assert (final["channels"], final["cells_per_stage"], final["layers"]) == (16, 3, None)
    assert (final["budget_seconds"], final["drop_path"], final["init"]) == (180.0, 0.2, "scratch")
    assert new.best == {"architecture": ARCH, "reward": None, "degenerate": []}

    detail = client.get(f"/api/searches/{new.pk}/").json()
    assert (detail["transfer_of"], detail["space"], detail["controller"]) == (source.pk, "enas-micro", None)
    listed = client.get(f"/api/searches/{source.pk}/transfers").json()
    assert listed == {"id": source.pk, "transfers": [
        {"id": new.pk, "name": new.name, "status": "queued", "dataset": gray.pk}]}
    assert client.get(f"/api/searches/{source.pk}/").json()["transfers"] == listed["transfers"]
    assert client.post(f"/api/searches/{new.pk}/controls").json()["errors"]["controls"] == [
        "This run trains the architecture of another search; it has no search of its own to compare."]
    again = rerun_search(new)
    assert (again.config, again.transfer_of, again.dataset) == (new.config, source, gray)


def test_the_same_dataset_at_a_larger_size_and_the_defaults(user, ready_dataset, enqueued) -> None:
    source = _source(user, ready_dataset)
    response = _post(_client(user), source, {"dataset": ready_dataset.pk, "name": " wider ",
                                              "final": {"channels": 32}})
    assert response.status_code == 201
    new = Search.objects.get(pk=response.json()["id"])
    assert new.name == "wider" and new.config["final"]["budget_seconds"] == 120.0  # the default budget
    assert (new.config["image_size"], new.config["grayscale"]) == (None, None)  # the dataset's own


@pytest.mark.parametrize(("status", "best", "message"), [
    (Search.RUNNING, "arch", "The search has not finished yet"),
    (Search.QUEUED, None, "The search has not finished yet"),
    (Search.FAILED, "arch", "Only a finished search's architecture can be transferred; this one failed."),
    (Search.CANCELLED, "arch", "this one cancelled."),
    (Search.SUCCEEDED, None, "This search found no architecture."),
    (Search.SUCCEEDED, {"reward": 0.5}, "This search found no architecture."),
    (Search.SUCCEEDED, {"architecture": {"normal": []}}, "architecture cannot be rebuilt: enas-micro"),
])
def test_a_source_without_a_finished_architecture_is_refused(
        user, ready_dataset, gray, enqueued, status: str, best: Any, message: str) -> None:
    source = _source(user, ready_dataset, status=status, best=best)
    response = _post(_client(user), source, {"dataset": gray.pk})
    assert response.status_code == 400
    assert message in response.json()["errors"]["search"][0]
    assert not source.transfers.exists() and enqueued == []


def test_the_datasets_must_be_the_users_own_ready_and_of_the_architectures_kind(
        user, other_user, ready_dataset, gray, enqueued) -> None:
    source = _source(user, ready_dataset)
    client = _client(user)
    theirs = Dataset.objects.create(owner=other_user, name="theirs", status=Dataset.READY, num_classes=3,
                                    file="datasets/t/t.zip")
    pending = Dataset.objects.create(owner=user, name="pending", file="datasets/p/p.zip")
    broken = Dataset.objects.create(owner=user, name="broken", status=Dataset.FAILED, error="no images",
                                    file="datasets/b/b.zip")
    text = Dataset.objects.create(owner=user, name="poems", kind=Dataset.TEXT, status=Dataset.READY,
                                  file="datasets/t/poems.txt")
    cases = [
        ({}, "Choose a dataset."),
        ({"dataset": "gray"}, "Give the dataset's id (a whole number)."),
        ({"dataset": theirs.pk}, "No such dataset."),
        ({"dataset": pending.pk}, "The dataset is still being validated; try again in a moment."),
        ({"dataset": broken.pk}, "The dataset failed validation: no images"),
        ({"dataset": text.pk}, "The enas-micro architecture takes image data; 'poems' is a text dataset."),
    ]
    for body, message in cases:
        response = _post(client, source, body)
        assert response.status_code == 400 and response.json()["errors"]["dataset"] == [message], body
    assert not source.transfers.exists() and enqueued == []


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"final": {"channels": 0}}, "final", "channels: must be between 1 and 1024."),
    ({"final": {"cells_per_stage": "many"}}, "final", "cells_per_stage: must be a whole number."),
    ({"final": {"layers": 6}}, "final", "The enas-micro space cannot set layers; it can set channels, "
                                        "cells per stage."),
    ({"final": {"init": "supernet"}}, "final", "init: a transfer trains from scratch; the search's supernet "
                                               "learned another dataset."),
    ({"final": {"colour": "red"}}, "final", "colour: unknown option; known: budget_seconds,"),
    ({"final": [1]}, "final", "options: must be an object of option names and values."),
    ({"final_budget": "forever"}, "final_budget", "'forever' is not a duration like 90s, 20m or 2h."),
    ({"final_budget": {"minutes": 3}}, "final_budget", "Unknown final budget key 'minutes'."),
    ({"final_budget": 10**9}, "final_budget", "At most 12 hours."),
    ({"image_size": 4}, "image_size", "Must be between 8 and 512."),
    ({"image_size": "big"}, "image_size", "Must be a whole number."),
    ({"grayscale": "yes"}, "grayscale", "Must be true or false."),
    ({"seed": -1}, "seed", "Must be between 0 and 2147483647."),
    ({"name": 5}, "name", "Must be text."),
    ({"name": "x" * 201}, "name", "At most 200 characters."),
    ({"space": "nb201"}, "space", "Unknown field; a transfer takes dataset, name, final_budget, final,"),
])
def test_bad_settings_are_400_with_the_field_and_nothing_is_stored(
        user, ready_dataset, gray, enqueued, body: dict[str, Any], field: str, message: str) -> None:
    source = _source(user, ready_dataset)
    response = _post(_client(user), source, {"dataset": gray.pk, **body})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(m.startswith(message) for m in errors[field]), errors
    assert Search.objects.count() == 1 and enqueued == []


def test_a_child_that_does_not_fit_the_dataset_is_refused_in_words(user, ready_dataset, gray,
                                                                    enqueued) -> None:
    source = create_search(user, {"dataset": ready_dataset.pk, "name": "macro", "space": "enas-macro",
                                  "space_options": {"num_layers": 3}, "budget": {"max_epochs": 1}})
    arch = {"layers": [{"op": "conv3", "skips": []}, {"op": "max3", "skips": [1]},
                       {"op": "sep5", "skips": [0, 1]}]}
    Search.objects.filter(pk=source.pk).update(status=Search.SUCCEEDED, best={"architecture": arch})
    response = _post(_client(user), source, {"dataset": gray.pk, "final": {"layers": 7}})
    assert response.status_code == 400
    assert response.json()["errors"]["dataset"] == [
        "The enas-macro child at layers 7: num_layers=7 must be a multiple of the architecture's 3 layers."]
    assert _post(_client(user), source, {"dataset": gray.pk, "final": {"layers": 6}}).status_code == 201


def test_only_the_owner_can_transfer_and_not_a_body_that_is_not_an_object(
        user, other_user, ready_dataset, gray, enqueued) -> None:
    source = _source(user, ready_dataset)
    assert _post(_client(other_user), source, {"dataset": gray.pk}).status_code == 404
    assert _client(other_user).get(f"/api/searches/{source.pk}/transfers").status_code == 404
    response = _post(_client(user), source, [gray.pk])
    assert response.status_code == 400 and response.json()["errors"] == {"__all__": ["Send a JSON object."]}
    assert Client().post(f"/api/searches/{source.pk}/transfers").status_code == 401
    assert not source.transfers.exists() and enqueued == []


@pytest.mark.parametrize(("above_chance", "transferable"), [(False, True), (True, False), (None, False)])
def test_a_run_that_failed_only_at_chance_can_be_transferred(
        user, ready_dataset, gray, enqueued, above_chance: bool | None, transferable: bool) -> None:
    """Its final model was at chance (the run's verdict) but its search found an architecture: training
    it again, larger or on other data, is what the failure suggests. Any other failure is refused."""
    from webapp.searches.models import TrainedModel

    source = _source(user, ready_dataset, status=Search.FAILED)
    if above_chance is not None:
        TrainedModel.objects.create(search=source, package="p.zip", metrics={
            "test_accuracy": 0.1, "verdict": {"above_chance": above_chance, "chance": 0.1}})
    response = _post(_client(user), source, {"dataset": gray.pk})
    assert (response.status_code == 201) == transferable, response.json()
    assert source.transfers.exists() == transferable


def test_a_sampled_architecture_can_be_chosen_and_any_other_is_refused(
        user, ready_dataset, enqueued, django_capture_on_commit_callbacks) -> None:
    from webapp.searches.models import SearchEvent
    source = _source(user, ready_dataset)
    sampled = {"normal": [[0, "sep5", 1, "sep5"], [2, "sep3", 0, "avg3"]], "reduce": ARCH["reduce"]}
    SearchEvent.objects.create(search=source, seq=1, type="arch_sampled", time=0.0,
                               payload={"architecture": sampled, "reward": 0.2})
    client = _client(user)
    refused = _post(client, source, {"dataset": ready_dataset.pk, "architecture": {**sampled, "reduce": []}})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["architecture"]
    other_space = _post(client, source, {"dataset": ready_dataset.pk, "architecture": {"space": "nb201"}})
    assert "of the enas-micro space" in other_space.json()["errors"]["architecture"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, source, {"dataset": ready_dataset.pk, "architecture": sampled})
    assert response.status_code == 201, response.json()
    new = Search.objects.get(pk=response.json()["id"])
    assert new.config["transfer"]["architecture"] == {"space": "enas-micro", **sampled}
    assert new.best["architecture"] == new.config["transfer"]["architecture"] and "graph" in new.best
