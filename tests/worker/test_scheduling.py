"""A ``run_search`` message runs its own search when resuming it, else the fairest queued one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.searches.models import Search
from worker import lease
from worker.scheduling import claim_for_message

pytestmark = pytest.mark.django_db


def _queued(owner, name: str) -> Search:
    return Search.objects.create(owner=owner, name=name, config={})


def test_messages_run_searches_round_robin_by_user_not_in_message_order(user, other_user) -> None:
    a1, a2, a3 = (_queued(user, f"a{i}") for i in range(1, 4))
    b1 = _queued(other_user, "b1")
    ran = []
    for message in (a3.pk, a2.pk, a1.pk, b1.pk):  # the messages, in whatever order Redis gives them
        search_id, claim = claim_for_message(message)
        assert claim.outcome == lease.CLAIMED
        ran.append(search_id)
        Search.objects.filter(pk=search_id).update(status=Search.SUCCEEDED)  # one worker: it ends first
    assert ran == [a1.pk, b1.pk, a2.pk, a3.pk]
    assert claim_for_message(a1.pk)[1].outcome == lease.DONE  # a duplicate with nothing queued: no-op


def test_a_message_for_a_running_search_waits_for_its_lease(user, other_user) -> None:
    running = _queued(user, "running")
    assert lease.claim(running.pk).outcome == lease.CLAIMED
    _queued(other_user, "waiting")
    search_id, claim = claim_for_message(running.pk)  # a re-delivery while the search still runs
    assert (search_id, claim.outcome) == (running.pk, lease.BUSY) and claim.retry_in > 0


def test_a_message_for_a_leased_search_resumes_it_ahead_of_the_queue(user, other_user) -> None:
    crashed = _queued(user, "crashed")
    assert lease.claim(crashed.pk).outcome == lease.CLAIMED
    Search.objects.filter(pk=crashed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    waiting = _queued(other_user, "waiting")
    search_id, claim = claim_for_message(crashed.pk)
    assert (search_id, claim.outcome) == (crashed.pk, lease.CLAIMED)
    assert Search.objects.get(pk=waiting.pk).status == Search.QUEUED


def test_a_stale_message_runs_the_next_search_or_nothing(user) -> None:
    done = _queued(user, "done")
    Search.objects.filter(pk=done.pk).update(status=Search.CANCELLED)
    assert claim_for_message(done.pk)[1].outcome == lease.DONE
    next_one = _queued(user, "next")
    search_id, claim = claim_for_message(done.pk)
    assert search_id == next_one.pk and claim.outcome == lease.CLAIMED
    assert claim_for_message(10**9)[1].outcome == lease.DONE  # a missing id, nothing queued: no-op
