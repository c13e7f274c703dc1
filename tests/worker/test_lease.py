from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from webapp.searches.models import Search, SearchEvent
from worker import lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(user) -> Search:
    return Search.objects.create(owner=user, name="s", config={})


def test_of_two_claims_one_wins(search) -> None:
    first, second = lease.claim(search.pk, "a"), lease.claim(search.pk, "b")
    assert first.outcome == lease.CLAIMED and second.outcome == lease.BUSY
    assert 1 <= second.retry_in <= 122
    search.refresh_from_db()
    assert (search.status, search.lease_owner, search.attempts) == (Search.RUNNING, "a", 1)
    assert search.started_at is not None and search.lease_expires_at > timezone.now()


def test_concurrent_claims_from_threads_one_wins(search, transactional_db) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        from django.db import connection

        barrier.wait()
        deadline = time.monotonic() + 30
        while True:  # shared-cache SQLite answers "table is locked" at once (no busy wait): retry
            try:
                outcomes.append(lease.claim(search.pk, name).outcome)
                break
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [lease.BUSY] * 3 + [lease.CLAIMED]


def test_an_expired_lease_can_be_claimed_again(search) -> None:
    lease.claim(search.pk, "dead-worker")
    Search.objects.filter(pk=search.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    again = lease.claim(search.pk, "new-worker")
    assert again.outcome == lease.CLAIMED
    search.refresh_from_db()
    assert (search.lease_owner, search.attempts) == ("new-worker", 2)
    assert not lease.renew(search.pk, "dead-worker") and lease.renew(search.pk, "new-worker")


def test_a_cancelled_search_reclaimed_stays_cancelling(search) -> None:
    lease.claim(search.pk, "a")
    Search.objects.filter(pk=search.pk).update(
        status=Search.CANCELLING, cancel_requested=True,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert lease.claim(search.pk, "b").outcome == lease.CLAIMED
    search.refresh_from_db()
    assert search.status == Search.CANCELLING


def test_attempts_are_capped(search, settings) -> None:
    settings.SEARCH_MAX_ATTEMPTS = 2
    for owner in ("a", "b"):
        assert lease.claim(search.pk, owner).outcome == lease.CLAIMED
        Search.objects.filter(pk=search.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.claim(search.pk, "c").outcome == lease.GAVE_UP
    search.refresh_from_db()
    assert search.status == Search.FAILED and "2 attempts" in search.message and search.lease_owner == ""
    finished = SearchEvent.objects.get(search=search)
    assert finished.type == "finished" and finished.payload["status"] == "failed"
    assert lease.claim(search.pk, "d").outcome == lease.DONE


def test_finished_and_missing_searches_are_not_claimed(search) -> None:
    Search.objects.filter(pk=search.pk).update(status=Search.SUCCEEDED)
    assert lease.claim(search.pk).outcome == lease.DONE
    assert lease.claim(search.pk + 99).outcome == lease.MISSING


def test_heartbeat_renews_and_notices_a_lost_lease(search, settings, transactional_db) -> None:
    lease.claim(search.pk, "me")
    search.refresh_from_db()
    before = search.lease_expires_at
    with lease.Heartbeat(search.pk, "me", every=0.05) as heartbeat:
        time.sleep(0.3)
        search.refresh_from_db()
        assert search.lease_expires_at > before and not heartbeat.lost.is_set()
        Search.objects.filter(pk=search.pk).update(lease_owner="thief")
        assert heartbeat.lost.wait(timeout=2)
