"""Per-user search limits through the JSON API (issue 11 item 1): searches active at once and launches
per minute. A refused request is 429 with a message, stores no row and enqueues nothing; another user
is unaffected. Every way of creating a search counts: a new search, its controls, a re-run, a transfer."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from webapp.accounts.services import regenerate_token
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db
RUN = "worker.tasks.run_search"
TABLE = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 20}}
ARCH = {"normal": [[0, "sep3", 1, "max3"], [2, "identity", 0, "avg3"]],
        "reduce": [[1, "avg3", 0, "sep5"], [0, "max3", 2, "sep3"]]}


def _client(user: Any) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _timed(dataset: Any, **extra: Any) -> dict[str, Any]:
    """A search that may have controls: a dataset and time budgets."""
    return {"dataset": dataset.pk, "name": "cells", "space": "enas-micro",
            "space_options": {"num_nodes": 2, "channels": 4, "cells_per_stage": 1},
            "budget": "90s", "final_budget": "60s", **extra}


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.SEARCH_MAX_ACTIVE_PER_USER = 100
    settings.SEARCH_LAUNCHES_PER_MINUTE = 100
    return settings


def _refused(response: Any, words: str) -> dict[str, Any]:
    assert response.status_code == 429, response.content
    body = response.json()
    assert words in body["error"] and body["errors"] == {"__all__": [body["error"]]}
    return body


def test_active_searches_are_capped_per_user(limits, user, other_user, enqueued,
                                             django_capture_on_commit_callbacks) -> None:
    limits.SEARCH_MAX_ACTIVE_PER_USER = 2
    client = _client(user)
    with django_capture_on_commit_callbacks(execute=True):
        first, second = (_post(client, "/api/searches/", TABLE) for _ in range(2))
        assert (first.status_code, second.status_code) == (201, 201)
        refused = _post(client, "/api/searches/", TABLE)
    body = _refused(refused, "at most 2 may be at once")
    assert "You have 2 searches queued or running" in body["error"] and "Retry-After" not in refused.headers
    assert Search.objects.filter(owner=user).count() == 2 and len(enqueued) == 2
    with django_capture_on_commit_callbacks(execute=True):  # another user queues as usual
        assert _post(_client(other_user), "/api/searches/", TABLE).status_code == 201
    Search.objects.filter(pk=first.json()["id"]).update(status=Search.RUNNING)  # running counts too
    assert _post(client, "/api/searches/", TABLE).status_code == 429
    assert _post(client, f"/api/searches/{second.json()['id']}/cancel").json()["status"] == "cancelled"
    assert _post(client, "/api/searches/", TABLE).status_code == 201  # a cancelled one frees its place


def test_launches_per_minute_are_capped_with_retry_after(limits, user, other_user, enqueued) -> None:
    limits.SEARCH_LAUNCHES_PER_MINUTE = 3
    client = _client(user)
    assert [_post(client, "/api/searches/", TABLE).status_code for _ in range(3)] == [201] * 3
    Search.objects.filter(owner=user).update(status=Search.SUCCEEDED)  # not the active limit: the rate
    refused = _post(client, "/api/searches/", TABLE)
    _refused(refused, "at most 3 per minute")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert Search.objects.filter(owner=user).count() == 3
    assert _post(_client(other_user), "/api/searches/", TABLE).status_code == 201

    now = timezone.now()
    rows = list(Search.objects.filter(owner=user).order_by("pk"))
    for age, row in zip((45, 30, 10), rows, strict=True):  # the oldest leaves the window in 15 s
        Search.objects.filter(pk=row.pk).update(created=now - timedelta(seconds=age))
    retry = int(_post(client, "/api/searches/", TABLE).headers["Retry-After"])
    assert 14 <= retry <= 16, retry
    Search.objects.filter(pk=rows[0].pk).update(created=now - timedelta(seconds=61))
    assert _post(client, "/api/searches/", TABLE).status_code == 201
    assert _post(client, "/api/searches/", TABLE).status_code == 429


def test_a_search_with_controls_counts_three(limits, user, ready_dataset, enqueued) -> None:
    limits.SEARCH_MAX_ACTIVE_PER_USER = 2
    client = _client(user)
    body = _refused(_post(client, "/api/searches/", _timed(ready_dataset, controls=True)), "add 3 runs")
    assert "at most 2" in body["error"] and not Search.objects.exists() and enqueued == []
    limits.SEARCH_MAX_ACTIVE_PER_USER = 3
    assert _post(client, "/api/searches/", _timed(ready_dataset, controls=True)).status_code == 201
    assert Search.objects.filter(owner=user).count() == 3


def test_reruns_controls_and_transfers_count_and_are_refused(limits, user, ready_dataset,
                                                             enqueued) -> None:
    client = _client(user)
    source_id = _post(client, "/api/searches/", _timed(ready_dataset)).json()["id"]
    best = {"architecture": ARCH, "reward": 0.3, "degenerate": []}
    Search.objects.filter(pk=source_id).update(status=Search.SUCCEEDED, best=best)
    limits.SEARCH_MAX_ACTIVE_PER_USER = 1
    assert _post(client, f"/api/searches/{source_id}/rerun").status_code == 201  # 1 active now
    _refused(_post(client, f"/api/searches/{source_id}/rerun"), "at most 1 may be at once")
    _refused(_post(client, f"/api/searches/{source_id}/transfers", {"dataset": ready_dataset.pk}),
             "at most 1 may be at once")
    _refused(_post(client, f"/api/searches/{source_id}/controls"), "add 2 runs")
    assert Search.objects.filter(owner=user).count() == 2 and len(enqueued) == 0  # no commit hooks run here

    limits.SEARCH_MAX_ACTIVE_PER_USER = 100
    limits.SEARCH_LAUNCHES_PER_MINUTE = 2  # two made in the last minute: every path is now rate-limited
    for url, body in ((f"/api/searches/{source_id}/rerun", None),
                      (f"/api/searches/{source_id}/transfers", {"dataset": ready_dataset.pk}),
                      (f"/api/searches/{source_id}/controls", None)):
        response = _post(client, url, body)
        _refused(response, "at most 2 per minute")
        assert int(response.headers["Retry-After"]) >= 1
    assert Search.objects.filter(owner=user).count() == 2


def test_a_refused_request_enqueues_nothing(limits, user, enqueued,
                                            django_capture_on_commit_callbacks) -> None:
    limits.SEARCH_LAUNCHES_PER_MINUTE = 1
    client = _client(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert _post(client, "/api/searches/", TABLE).status_code == 201
        assert _post(client, "/api/searches/", TABLE).status_code == 429
    assert len(callbacks) == 1 and [name for name, _ in enqueued] == [RUN]


def test_the_limit_is_checked_before_validation_and_bad_input_still_400(limits, user, enqueued) -> None:
    limits.SEARCH_LAUNCHES_PER_MINUTE = 1
    client = _client(user)
    assert _post(client, "/api/searches/", {**TABLE, "budget": {"max_archs": 15626}}).status_code == 400
    assert _post(client, "/api/searches/", TABLE).status_code == 201
    assert _post(client, "/api/searches/", {**TABLE, "space": "no-such-space"}).status_code == 429


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"budget": {"max_archs": 15626}}, "budget", "at most 15625, the number of architectures in this space"),
    ({"budget": {"max_archs": 10**15}}, "budget", "at most 15625, the number of architectures"),
    ({"budget": {"max_archs": 1e15}}, "budget", "at most 15625, the number of architectures"),
    ({"budget": {"max_epochs": 10_001}}, "budget", "between 1 and 10000"),
    ({"budget": {"seconds": 12 * 3600 + 1}}, "budget", "At most 12 hours"),
    ({"budget": "13h"}, "budget", "At most 12 hours"),
    ({"budget": {"max_archs": True}}, "budget", ""),
    ({"final_budget": {"seconds": 12 * 3600 + 1}}, "final_budget", "At most 12 hours"),
    ({"final_budget": {"epochs": 10_001}}, "final", "epochs"),
    ({"final_budget": {"epochs": 1e9}}, "final", "epochs"),
    ({"final_budget": True}, "final", "budget_seconds"),
])
def test_every_budget_dimension_is_capped(limits, user, change, field, words, enqueued) -> None:
    response = _post(_client(user), "/api/searches/", {**TABLE, **change})
    assert response.status_code == 400, response.content
    messages = response.json()["errors"][field]
    assert any(words in m for m in messages), messages
    assert not Search.objects.exists()
