"""A lease whose holder is known to be dead is taken over at once, not after it expires (issue 11 item 6)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from webapp.searches.models import Search
from worker import lease

pytestmark = pytest.mark.django_db
HOST = socket.gethostname()


@pytest.fixture
def search(user) -> Search:
    return Search.objects.create(owner=user, name="s", config={})


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)  # exited and reaped: no process has this pid now
    return process.pid


def test_a_dead_holder_on_this_host_loses_its_unexpired_lease_at_once(search) -> None:
    dead = f"{HOST}:{_dead_pid()}:deadbeef"
    assert lease.claim(search.pk, dead).outcome == lease.CLAIMED
    search.refresh_from_db()
    assert search.lease_expires_at > timezone.now()  # the full lease is still ahead
    again = lease.claim(search.pk, "successor")
    assert again.outcome == lease.CLAIMED
    search.refresh_from_db()
    assert (search.status, search.lease_owner, search.attempts) == (Search.RUNNING, "successor", 2)
    assert not lease.renew(search.pk, dead)


@pytest.mark.parametrize("holder", [
    f"{HOST}:{os.getppid()}:alive",  # a live process of this host
    f"{HOST}:{os.getpid()}:me",  # this very process
    f"other-host.example:{_dead_pid()}:x",  # another host: its pids cannot be checked from here
    "not-an-owner",
])
def test_a_holder_not_known_dead_keeps_its_lease(search, holder: str) -> None:
    assert lease.claim(search.pk, holder).outcome == lease.CLAIMED
    busy = lease.claim(search.pk, "successor")
    assert busy.outcome == lease.BUSY and busy.retry_in > 60
    search.refresh_from_db()
    assert (search.lease_owner, search.attempts) == (holder, 1)


def test_a_zombie_holder_is_gone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    try:
        while not lease.holder_gone(f"{HOST}:{process.pid}:z"):  # exited, not reaped: a zombie
            assert time.monotonic() < deadline, "the child never showed as gone"
            time.sleep(0.05)
    finally:
        process.wait(timeout=30)
    assert not lease.holder_gone(f"{HOST}:{os.getpid()}:z")
