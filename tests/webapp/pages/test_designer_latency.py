"""The designer and the API take the cost-aware reward's latency target (issue 7 item 6)."""

from __future__ import annotations

import re

from django.test import Client

from tests.webapp.pages.test_designer_page import _post
from webapp.accounts.services import regenerate_token
from webapp.searches.models import Search


def test_the_designer_offers_a_latency_target_that_is_off_when_empty(client_a, dataset):
    html = client_a.get("/searches/new").content.decode()
    assert re.search(r'name="latency_target_ms"[^>]*placeholder="off"', html)
    assert '<option value="soft" selected>' in html and '<option value="hard">' in html
    assert client_a.post("/searches/new", _post(dataset)).status_code == 302
    config = Search.objects.get().config
    assert (config["latency_target_ms"], config["latency_mode"]) == (None, "soft")
    assert config["latency_weight"] == -0.07


def test_a_latency_target_and_mode_are_posted_into_the_config(client_a, dataset):
    post = _post(dataset, latency_target_ms="2.5", latency_mode="hard")
    assert client_a.post("/searches/new", post).status_code == 302
    config = Search.objects.get().config
    assert (config["latency_target_ms"], config["latency_mode"]) == (2.5, "hard")
    html = client_a.get(f"/searches/new?from={Search.objects.get().pk}").content.decode()  # edit, run again
    assert 'name="latency_target_ms" value="2.5"' in html and '<option value="hard" selected>' in html


def test_an_out_of_range_target_is_shown_at_its_field(client_a, dataset):
    response = client_a.post("/searches/new", _post(dataset, latency_target_ms="0"))
    assert response.status_code == 400 and not Search.objects.exists()
    assert 'class="field invalid" id="field-latency_target_ms"' in response.content.decode()


def test_the_api_takes_the_fields_directly(alice, dataset):
    client = Client(headers={"Authorization": f"Token {regenerate_token(alice)}"})
    body = {"dataset": dataset.pk, "space": "enas-micro", "space_options": {"num_nodes": 2},
            "controller": "random", "budget": {"max_epochs": 1}}
    response = client.post("/api/searches/", {**body, "latency_target_ms": 3, "latency_weight": -0.2},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    config = Search.objects.get().config
    assert (config["latency_target_ms"], config["latency_weight"]) == (3.0, -0.2)
    assert config["latency_mode"] == "soft"
    refused = client.post("/api/searches/", {**body, "latency_mode": "medium", "latency_weight": 1},
                          content_type="application/json")
    assert refused.status_code == 400
    assert {"latency_mode", "latency_weight"} <= set(refused.json()["errors"])
