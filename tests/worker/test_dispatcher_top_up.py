"""The dispatcher's queue top-up: one waiting message per queued search and per orphaned one (a
leased search whose lease ran out with nobody renewing it), and no more."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from webapp.searches.models import Search
from worker import dispatcher

pytestmark = pytest.mark.django_db


def _search(owner, name: str, minutes_old: int = 5, **fields) -> Search:
    search = Search.objects.create(owner=owner, name=name, config={}, **fields)
    Search.objects.filter(pk=search.pk).update(created=timezone.now() - timedelta(minutes=minutes_old))
    return search


def _top_up(waiting: int) -> int:
    with mock.patch.object(dispatcher, "waiting_messages", return_value=waiting):
        return dispatcher.top_up_searches(app=None, older_than=5.0)


def test_orphaned_and_queued_searches_get_their_missing_messages(user, other_user, enqueued) -> None:
    expired = timezone.now() - timedelta(minutes=3)
    orphan = _search(user, "paused at a shutdown", status=Search.RUNNING, lease_expires_at=expired,
                     lease_owner="otherhost:123:abc")
    _search(user, "held", status=Search.RUNNING, lease_expires_at=timezone.now() + timedelta(minutes=2),
            lease_owner="thishost:1:x")  # renewed: not an orphan
    queued = _search(other_user, "queued")
    _search(other_user, "just made", minutes_old=0)  # its own message may be on its way
    assert _top_up(waiting=0) == 2
    assert enqueued == [("worker.tasks.run_search", [orphan.pk]), ("worker.tasks.run_search", [queued.pk])]


def test_nothing_is_sent_when_the_messages_are_already_waiting(user, enqueued) -> None:
    _search(user, "orphan", status=Search.CANCELLING, lease_expires_at=timezone.now() - timedelta(minutes=1),
            lease_owner="h:1:n")
    _search(user, "queued")
    assert _top_up(waiting=2) == 0 and enqueued == []
    assert _top_up(waiting=1) == 1 and len(enqueued) == 1  # the orphan's, by its id, first
