"""Durable enqueue (issue 11 item 5): a message the broker cannot take is kept and sent later."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from webapp.accounts.services import regenerate_token
from webapp.outbox.models import OutboxMessage
from webapp.outbox.services import enqueue_on_commit, is_pending, send_pending
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db
RUN = "worker.tasks.run_search"
SEARCH = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 5}}


def _broker_down() -> Any:
    return mock.patch("webapp.celery_app.app.send_task", side_effect=BrokerError("Error 111 connecting"))


def test_a_message_is_sent_after_commit_and_not_kept(enqueued, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(RUN, 41)
        assert enqueued == [] and is_pending(RUN, 41)  # nothing leaves before the commit
    assert enqueued == [(RUN, [41])] and not OutboxMessage.objects.exists()


def test_broker_down_keeps_the_message_until_send_pending_gets_through(
        enqueued, django_capture_on_commit_callbacks) -> None:
    with _broker_down(), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(RUN, 7)
    kept = OutboxMessage.objects.get()
    assert (kept.task, kept.object_id, kept.attempts) == (RUN, 7, 1) and "111" in kept.last_error
    with _broker_down():
        assert send_pending([RUN], older_than=0) == 0  # still down: kept, one more attempt noted
    assert OutboxMessage.objects.get().attempts == 2
    assert send_pending([RUN], older_than=60) == 0 and enqueued == []  # too young: its request sends it
    assert send_pending(["worker.tasks.validate_dataset"], older_than=0) == 0  # another worker's task
    assert send_pending([RUN], older_than=0) == 1
    assert enqueued == [(RUN, [7])] and not OutboxMessage.objects.exists()


def test_send_pending_sends_oldest_first_and_stops_at_the_first_failure(enqueued) -> None:
    old = timezone.now() - timedelta(minutes=1)
    for object_id in (3, 1, 2):
        OutboxMessage.objects.create(task=RUN, object_id=object_id, created=old)
    with mock.patch("webapp.celery_app.app.send_task", side_effect=[None, BrokerError("down"), None]):
        assert send_pending([RUN], older_than=0) == 1
    assert list(OutboxMessage.objects.values_list("object_id", flat=True)) == [1, 2]
    assert send_pending([RUN], older_than=0) == 2 and enqueued == [(RUN, [1]), (RUN, [2])]


def test_api_create_while_the_broker_is_down_is_saved_and_says_so(
        user, django_capture_on_commit_callbacks) -> None:
    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    with _broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/searches/", SEARCH, content_type="application/json")
    body = response.json()
    assert response.status_code == 201 and body["queue"] == "pending" and "queue is back" in body["message"]
    assert Search.objects.get(pk=body["id"]).status == Search.QUEUED and is_pending(RUN, body["id"])


def test_database_unavailable_is_a_503_with_retry_after_and_nothing_saved(user) -> None:
    from django.db import OperationalError

    client = Client(headers={"Authorization": f"Token {regenerate_token(user)}"})
    with mock.patch("webapp.searches.services.Search.objects.create",
                    side_effect=OperationalError("database is locked")):
        response = client.post("/api/searches/", SEARCH, content_type="application/json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "nothing was saved" in response.json()["error"] and not Search.objects.exists()
