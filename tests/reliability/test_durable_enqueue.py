"""Issue 11 item 5 (and item 1's fair scheduling) on the real stack: Redis, Celery workers, uvicorn.

- Redis stopped: POST /api/searches/ and an upload answer 201 with ``"queue": "pending"``; the same
  ``Idempotency-Key`` again gives the same id; once Redis is back both run to the end with no
  client retry (the workers' dispatcher sends the outbox).
- A queued search whose message never reached Redis (lost) is run by the queue top-up.
- Two users: the searches worker starts them round-robin by user, as the queue positions said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import ApiClient, LiveStack, live_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FIXTURE_ZIP = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
SEARCH = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 3}}
FINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    with live_stack(extra_env={"OUTBOX_POLL_SECONDS": "1", "QUEUE_RECONCILE_SECONDS": "2"}) as running:
        yield running


def _finished(api: ApiClient, search_id: int, timeout: float = 90) -> dict[str, Any]:
    return api.wait_for(f"/api/searches/{search_id}/", lambda b: b["status"] in FINAL, timeout=timeout)


def _shell(stack: LiveStack, code: str) -> str:
    return stack.manage("shell", "-c", code).strip().splitlines()[-1]


def test_created_while_redis_is_down_runs_once_it_is_back(stack: LiveStack) -> None:
    api = stack.api(stack.create_user("outage", "outage-pass-1"))
    key = {"Idempotency-Key": "outage-search-1"}
    redis = stack.service("redis")
    redis.stop()
    stack.services.remove(redis)
    try:
        status, created = api.post("/api/searches/", SEARCH, headers=key)
        assert status == 201 and created["queue"] == "pending", created
        status, again = api.post("/api/searches/", SEARCH, headers=key)  # the client's retry
        assert status == 200 and again["id"] == created["id"], again
        status, upload = api.upload("/api/datasets/", {"name": "during outage"}, "file", FIXTURE_ZIP,
                                    headers={"Idempotency-Key": "outage-upload-1"})
        assert status == 201 and upload["queue"] == "pending" and upload["status"] == "validating", upload
    finally:
        stack._start_redis()
    assert _finished(api, created["id"])["status"] == "succeeded"
    dataset = api.validated(upload["id"], timeout=90)
    assert dataset["status"] == "ready", dataset
    assert [s["id"] for s in api.get("/api/searches/")[1]["searches"]] == [created["id"]]
    assert _shell(stack, "from webapp.outbox.models import OutboxMessage; "
                         "print(OutboxMessage.objects.count())") == "0"


def test_a_queued_search_whose_message_was_lost_still_runs(stack: LiveStack) -> None:
    api = stack.api(stack.create_user("lost", "lost-pass-1"))
    search_id = int(_shell(stack, (  # stored like create_search does, but no message is ever sent
        "from django.contrib.auth import get_user_model; "
        "from webapp.searches.config import clean_search_data; "
        "from webapp.searches.models import Search; u = get_user_model().objects.get(username='lost'); "
        f"d, n, c = clean_search_data(u, {json.dumps(SEARCH)}); "
        "print(Search.objects.create(owner=u, dataset=d, name=n, config=c).pk)")))
    assert _finished(api, search_id)["status"] == "succeeded"


def test_two_users_are_served_round_robin_in_the_order_the_queue_shows(stack: LiveStack) -> None:
    alice, bob = (stack.api(stack.create_user(name, f"{name}-pass-1")) for name in ("alice", "bob"))
    made = json.loads(_shell(stack, (  # alice queues three, then bob one, committed (and sent) together
        "import json; from django.contrib.auth import get_user_model; from django.db import transaction; "
        "from webapp.searches.services import create_search, queue_positions; "
        "a, b = (get_user_model().objects.get(username=n) for n in ('alice', 'bob')); "
        "t = transaction.atomic(); t.__enter__(); "
        f"rows = [create_search(u, {json.dumps(SEARCH)}) for u in (a, a, a, b)]; "
        "shown = queue_positions(rows); t.__exit__(None, None, None); "
        "print(json.dumps([[s.pk, shown[s.pk]] for s in rows]))")))
    (a1, a1_at), (a2, a2_at), (a3, a3_at), (b1, b1_at) = made
    assert [a1_at, b1_at, a2_at, a3_at] == [1, 2, 3, 4]  # what the API and pages show (same function)
    started = {pk: _finished(api, pk)["started"]
               for api, pk in [(alice, a1), (bob, b1), (alice, a2), (alice, a3)]}
    assert sorted(started, key=started.__getitem__) == [a1, b1, a2, a3]
