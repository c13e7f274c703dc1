"""Every field of the JSON endpoints, fed values of every wrong shape: a 201/400 JSON answer, never a 500.

Issue 11's probes found HTML 500s for ``lstm_size=1e8``, a 5,000-digit integer and JSON nested
100,000 deep; this checks each top-level and nested field of ``POST /api/searches/`` and the
designer preview with a fixed list of hostile values (no models are built for a rejected value).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.jsonbody import MAX_DEPTH, MAX_INT_DIGITS
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db

HOSTILE: list[Any] = [None, True, False, 0, -1, 1.5, -1e308, 1e308, 10**MAX_INT_DIGITS - 1, "", "x" * 5000,
                      "1", "20m", [], [1, "a"], {}, {"a": {"b": [None]}}]
FIELDS = ["dataset", "name", "space", "space_options", "controller", "controller_options", "evaluator",
          "evaluator_options", "budget", "final_budget", "final", "seed", "archs_per_step", "image_size",
          "grayscale", "derive_samples", "latency_target_ms", "latency_weight", "latency_mode"]
NESTED = {"space_options": ["num_nodes", "ops", "channels"], "controller_options": ["lr", "lstm_size"],
          "evaluator_options": ["lr", "batch_size"], "budget": ["seconds", "max_archs", "max_epochs"],
          "final_budget": ["seconds", "epochs"], "final": ["batch_size", "lr", "epochs", "cutout"]}


def _good(dataset_pk: int) -> dict[str, Any]:
    return {"dataset": dataset_pk, "space": "enas-micro", "space_options": {"num_nodes": 2},
            "controller": "random", "evaluator": "shared", "budget": {"max_epochs": 1}}


def _cases(dataset_pk: int) -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for field in FIELDS:
        cases += [(f"{field}={value!r:.40}", {**_good(dataset_pk), field: value}) for value in HOSTILE]
    for field, keys in NESTED.items():
        for key in keys:
            cases += [(f"{field}.{key}={value!r:.40}", {**_good(dataset_pk), field: {key: value}})
                      for value in HOSTILE]
    return cases


def _assert_answered(response: Any, label: str) -> None:
    assert response.status_code in (201, 400), (label, response.status_code, response.content[:300])
    body = response.json()
    if response.status_code == 400:
        assert body.get("errors") or body.get("error"), (label, body)


def test_search_creation_answers_every_hostile_field_with_json(user, ready_dataset, enqueued) -> None:
    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    answered = {201: 0, 400: 0}
    for label, body in _cases(ready_dataset.pk):
        response = client.post("/api/searches/", body, content_type="application/json")
        _assert_answered(response, label)
        answered[response.status_code] += 1
    assert answered[400] > 0.8 * sum(answered.values())  # most hostile values are refused, not queued
    assert Search.objects.count() == answered[201]


@pytest.mark.parametrize("raw, says", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), "nested too deeply"),
    (b'{"seed": ' + b"9" * 5000 + b"}", "digits"),
    (b'{"seed": NaN}', "not a JSON number"),
    (b'{"seed": Infinity}', "not a JSON number"),
])
def test_bodies_that_cost_the_parser_are_refused_with_a_reason(user, raw, says) -> None:
    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    response = client.post("/api/searches/", raw, content_type="application/json")
    assert response.status_code == 400 and says in response.json()["error"]
    assert Search.objects.count() == 0


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"space": "nb201", "seed": ' + b"9" * 5000 + b"}"])
def test_designer_endpoints_refuse_costly_bodies(user, raw) -> None:
    client = Client()
    client.force_login(user)
    for url in ("/designer/preview", "/designer/estimate"):
        response = client.post(url, raw, content_type="application/json")
        assert response.status_code == 400 and response.json()["errors"], url


def test_designer_preview_answers_every_hostile_option(user) -> None:
    client = Client()
    client.force_login(user)
    for option in ("num_nodes", "ops", "channels", "cells_per_stage"):
        for value in HOSTILE:
            body = json.dumps({"space": "enas-micro", "options": {option: value}, "seed": 0})
            response = client.post("/designer/preview", body, content_type="application/json")
            assert response.status_code in (200, 400), (option, value, response.content[:300])


@pytest.mark.parametrize("query", ["after=" + "9" * 40, "after=-" + "9" * 40, "limit=" + "9" * 40,
                                   "after=1e3", "after=", "limit=0", "after=%00", "limit=-5"])
def test_events_query_parameters_never_500(user, ready_dataset, query) -> None:
    search = Search.objects.create(owner=user, dataset=ready_dataset, name="s", config={"space": "nb201"})
    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    response = client.get(f"/api/searches/{search.pk}/events?{query}")
    assert response.status_code in (200, 400), (query, response.content[:300])
    assert response.json()


@pytest.mark.parametrize("path", ["/api/searches/{big}/", "/api/searches/{big}/events",
                                  "/api/datasets/{big}/", "/api/searches/{big}/package",
                                  "/api/datasets/{big}/thumbnails/x.png"])
def test_ids_too_big_for_the_database_are_404(user, path) -> None:
    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    response = client.get(path.format(big="9" * 40))
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("fields", [{"name": "x" * 5000}, {"kind": "nope"}, {"kind": "x" * 5000},
                                    {"name": "\x00"}, {}])
def test_dataset_upload_fields_never_500(user, fields) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    upload = SimpleUploadedFile("d.zip", b"PK\x05\x06" + b"\x00" * 18, content_type="application/zip")
    response = client.post("/api/datasets/", {**fields, "file": upload})
    assert response.status_code in (201, 400), (fields, response.content[:300])
