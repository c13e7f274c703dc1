"""The ``ppo`` controller is selectable wherever REINFORCE is: the designer page offers it with its
help, the API lists it and takes its options (checked by its schema)."""

from __future__ import annotations

import pytest
from django.test import Client

from searchcore.controllers import controller_summaries
from webapp.accounts.services import regenerate_token

pytestmark = pytest.mark.django_db


def _token_client(user) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def test_designer_offers_ppo_with_its_help(client, user) -> None:
    client.force_login(user)
    html = client.get("/searches/new").content.decode()
    assert '<option value="ppo">ppo</option>' in html
    assert f'data-value="ppo" hidden>{controller_summaries()["ppo"]}</div>' in html.replace("&#x27;", "'")


def test_api_creates_a_ppo_search_with_its_options_and_refuses_bad_ones(user, ready_dataset,
                                                                     enqueued) -> None:
    client = _token_client(user)
    assert "ppo" in client.get("/api/spaces/").json()["controllers"]
    options = {"baseline": "learned", "clip": 0.1, "ppo_epochs": 2, "value_lr": 0.01}
    good = {"dataset": ready_dataset.pk, "space": "enas-micro", "space_options": {"num_nodes": 2},
            "controller": "ppo", "controller_options": options, "evaluator": "shared",
            "budget": {"max_epochs": 1}}
    response = client.post("/api/searches/", good, content_type="application/json")
    assert response.status_code == 201, response.json()
    config = client.get(f"/api/searches/{response.json()['id']}/").json()["config"]
    assert config["controller"] == "ppo" and config["controller_options"] == options
    bad = {**good, "controller_options": {"baseline": "critic", "clip": 0}}
    response = client.post("/api/searches/", bad, content_type="application/json")
    assert response.status_code == 400
    message = str(response.json()["errors"]["controller_options"])
    assert "baseline" in message and "clip" in message
