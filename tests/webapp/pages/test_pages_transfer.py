"""The results page's "Train this architecture on another dataset" form and the links of a transfer."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from webapp.datasets.models import Dataset
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db
ARCH = {"normal": [[0, "sep3", 1, "max3"], [2, "identity", 0, "avg3"]],
        "reduce": [[1, "avg3", 0, "sep5"], [0, "max3", 2, "sep3"]]}
GRAY_REPORT = {"image_sizes": {"28x28": 24}, "modes": {"L": 24}}


@pytest.fixture
def finished(search: Search) -> Search:
    Search.objects.filter(pk=search.pk).update(status=Search.SUCCEEDED, progress=1.0,
                                               best={"architecture": ARCH, "reward": 0.4})
    search.refresh_from_db()
    return search


@pytest.fixture
def gray(alice) -> Dataset:
    return Dataset.objects.create(owner=alice, name="gray bars", status=Dataset.READY, num_classes=3,
                                  num_images=24, report=GRAY_REPORT)


def _page(client: Client, search: Search) -> str:
    return client.get(f"/searches/{search.pk}/results").content.decode()


def test_the_form_offers_the_users_ready_image_datasets_and_the_spaces_sizes(client_a, finished, gray,
                                                                             alice, bob) -> None:
    Dataset.objects.create(owner=alice, name="pending", num_classes=3)
    Dataset.objects.create(owner=alice, name="poems", kind=Dataset.TEXT, status=Dataset.READY)
    Dataset.objects.create(owner=bob, name="bobs", status=Dataset.READY, num_classes=3)
    page = _page(client_a, finished)
    assert f'action="/searches/{finished.pk}/transfer"' in page
    for testid in ("transfer-card", "transfer-form", "transfer-dataset", "transfer-channels",
                   "transfer-cells_per_stage", "transfer-image-size", "transfer-grayscale", "transfer-budget",
                   "transfer-budget-unit", "transfer-name", "run-transfer"):
        assert f'data-testid="{testid}"' in page, testid
    assert 'data-testid="transfer-layers"' not in page  # an enas-micro child has no layer count to set
    options = page.split('<select id="transfer-dataset"')[1].split("</select>")[0]
    assert options.index("gray bars") < options.index("tiny (this search's)")  # another dataset first
    assert "pending" not in options and "poems" not in options and "bobs" not in options


def test_submitting_queues_the_transfer_and_opens_its_live_page(
        client_a, finished, gray, _media_and_queue, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(f"/searches/{finished.pk}/transfer", {
            "dataset": str(gray.pk), "channels": "24", "cells_per_stage": "", "image_size": "32",
            "grayscale": "rgb", "budget_value": "5", "budget_unit": "minutes", "name": ""})
    new = Search.objects.get(transfer_of=finished)
    assert response.status_code == 302 and response["Location"] == f"/searches/{new.pk}/"
    assert _media_and_queue == [("worker.tasks.run_search", [new.pk])]
    assert (new.dataset, new.name) == (gray, "first → gray bars")
    final = new.config["final"]
    assert (final["channels"], final["cells_per_stage"], final["budget_seconds"]) == (24, None, 300.0)
    assert (new.config["image_size"], new.config["grayscale"]) == (32, False)

    live = client_a.get(response["Location"]).content.decode()
    assert f'href="/searches/{finished.pk}/results">first</a>' in live
    assert "Queued “first → gray bars”: this architecture on gray bars." in live
    page = _page(client_a, new)
    assert 'data-testid="transfer-source-link"' in page and "Transferred architecture" in page
    settings_table = page.split('id="transfer-settings"')[1].split("</table>")[0]
    assert "Channels" in settings_table and "32 px" in settings_table and "colour" in settings_table
    assert "Edit and run again" not in page and "it has no search of its own to compare" in page
    assert f'href="/searches/{new.pk}/results">first → gray bars</a>' in _page(client_a, finished)
    epochs = client_a.post(f"/searches/{finished.pk}/transfer", {
        "dataset": str(gray.pk), "budget_value": "3", "budget_unit": "epochs", "grayscale": "auto"})
    assert epochs.status_code == 302
    latest = finished.transfers.order_by("-pk").first()
    assert (latest.config["final"]["epochs"], latest.config["final"]["budget_seconds"]) == (3, None)


def test_a_refused_form_goes_back_with_the_reasons_and_stores_nothing(client_a, finished, gray) -> None:
    response = client_a.post(f"/searches/{finished.pk}/transfer", {
        "dataset": str(gray.pk), "channels": "0", "layers": "many", "budget_value": "x",
        "budget_unit": "minutes"}, follow=True)
    page = html.unescape(response.content.decode())
    assert response.redirect_chain == [(f"/searches/{finished.pk}/results", 302)]
    assert "Cannot train it on another dataset:" in page and "channels: must be between 1 and 1024" in page
    assert "layers: must be a whole number" in page and "'xm' is not a duration" in page
    assert not finished.transfers.exists()


def test_an_unfinished_search_says_why_and_another_user_gets_404(client_a, search, gray, bob) -> None:
    page = _page(client_a, search)  # running
    assert 'id="transfer-form"' not in page and "The search has not finished yet" in page
    response = client_a.post(f"/searches/{search.pk}/transfer", {"dataset": str(gray.pk)}, follow=True)
    assert "Cannot train it on another dataset: The search has not finished yet" in response.content.decode()
    other = Client()
    other.force_login(bob)
    assert other.post(f"/searches/{search.pk}/transfer", {"dataset": str(gray.pk)}).status_code == 404
    assert not Search.objects.filter(transfer_of=search).exists()


def test_a_macro_architecture_offers_layers_instead_of_cells(client_a, finished, gray) -> None:
    macro = {"layers": [{"op": "conv3", "skips": []}, {"op": "max3", "skips": [1]},
                        {"op": "sep5", "skips": [0, 1]}]}
    Search.objects.filter(pk=finished.pk).update(
        config={**finished.config, "space": "enas-macro", "space_options": {"num_layers": 3}},
        best={"architecture": macro})
    page = _page(client_a, finished)
    assert 'data-testid="transfer-layers"' in page and 'data-testid="transfer-cells_per_stage"' not in page
