"""PostgreSQL via ``DATABASE_URL``: migrate, then the real models and services on a real server.

The pytest process keeps pytest-django's SQLite test settings; everything that talks to
PostgreSQL runs in a subprocess with ``webapp.settings`` and ``DATABASE_URL`` in its
environment, as the web server and the worker do. Run as a script (``python -m
tests.webapp.test_postgres``) this module is that subprocess: it exercises the models and
prints what happened as JSON on its last line, and the tests assert on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pg import postgres_server

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], url: str, var: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "webapp.settings",
           "SECRET_KEY": "postgres-test-only", "DEBUG": "false", "VAR_DIR": str(var),
           "MEDIA_ROOT": str(var / "media"), "CELERY_BROKER_URL": "memory://",
           # nothing listens there: a push fails fast and is logged, the rows are what we check
           "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
    result = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=180, check=False)
    assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A fresh PostgreSQL server with the project's migrations applied."""
    var = tmp_path_factory.mktemp("pg-var")
    with postgres_server() as url:
        _run(["manage.py", "migrate", "--noinput", "-v", "0"], url, var)
        yield url, var


def test_migrations_apply_and_match_the_models(database: tuple[str, Path]) -> None:
    url, var = database
    # nothing left to apply, and no model change without its migration
    _run(["manage.py", "migrate", "--check", "--noinput"], url, var)
    _run(["manage.py", "makemigrations", "--check", "--dry-run", "--noinput"], url, var)


def test_models_and_services_on_postgres(database: tuple[str, Path]) -> None:
    url, var = database
    out = json.loads(_run(["-m", "tests.webapp.test_postgres"], url, var).stdout.strip().splitlines()[-1])

    assert out["vendor"] == "postgresql" and out["server_version"] >= 130000
    # none of the SQLite-only options (WAL pragma, busy timeout, IMMEDIATE) reach psycopg
    assert out["options"] == {} and out["conn_max_age"] == 0

    assert out["user"] == {"checks_password": True, "duplicate_rejected": True, "is_superuser": False}
    assert out["dataset"] == {"status": "ready", "report": {"classes": {"cat": 5, "dog": 5}, "ok": True}}
    assert out["search"] == {"status": "queued", "space": "enas-micro", "dataset_linked": True}

    events = out["events"]
    assert events["first_store"] == [True] * 5 and events["again"] is False
    assert events["raw_duplicate"] == "IntegrityError"
    # a duplicate inside an outer transaction must not poison it (PostgreSQL aborts the
    # transaction on any error unless the insert ran in its own savepoint)
    assert events["outer_transaction_survives"] is True
    assert events["seqs"] == [1, 2, 3, 4, 5, 6] and events["last_seq"] == 6
    assert events["after_3"] == [4, 5, 6] and events["payload"] == {"loss": 0.5, "nested": {"a": [1, 2]}}

    claims = out["claims"]
    for outcomes in claims["races"]:
        assert sorted(outcomes) == ["busy", "claimed"], claims["races"]
    assert claims["race_attempts"] == [1] * len(claims["races"])
    # the second claim waited on the first one's row lock, then saw the row already claimed
    assert claims["blocked"] == {"first": "claimed", "second": "busy", "second_waited": True}
    assert claims["expired"] == {"outcome": "claimed", "attempts": 2, "old_renews": False, "new_renews": True}

    assert out["truncate"] == {"remaining": [1, 2], "last_seq": 2, "sink_last_seq": 2, "restored": True}


# -- the subprocess: runs under webapp.settings against PostgreSQL -----------------------------------------


def _check_settings() -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "server_version": version, "options": db.get("OPTIONS", {}),
            "conn_max_age": db["CONN_MAX_AGE"]}


def _check_user() -> tuple[Any, dict[str, Any]]:
    from django.core.exceptions import ValidationError

    from webapp.accounts.services import create_user

    user = create_user("alice", "correct-horse-42", "alice@example.org")
    try:
        create_user("ALICE", "another-horse-42")  # usernames are unique regardless of case
        duplicate_rejected = False
    except ValidationError as exc:
        duplicate_rejected = "username" in exc.message_dict
    user.refresh_from_db()
    return user, {"checks_password": user.check_password("correct-horse-42"),
                  "duplicate_rejected": duplicate_rejected, "is_superuser": user.is_superuser}


def _check_dataset_and_search(user: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    from webapp.datasets.models import Dataset
    from webapp.datasets.services import mark_validated
    from webapp.searches.services import create_search

    dataset = Dataset.objects.create(owner=user, name="tiny", file="datasets/1/tiny.zip", size=1234)
    mark_validated(dataset, {"ok": True, "classes": {"cat": 5, "dog": 5}}, num_classes=2, num_images=10)
    dataset.refresh_from_db()
    search = create_search(user, {
        "dataset": dataset.pk, "space": "enas-micro", "controller": "reinforce", "evaluator": "shared",
        "space_options": {"num_nodes": 2, "cells_per_stage": 1, "channels": 4}, "budget": "20m",
    })
    search.refresh_from_db()
    return (search, {"status": dataset.status, "report": dataset.report},
            {"status": search.status, "space": search.config["space"],
             "dataset_linked": search.dataset_id == dataset.pk})


def _check_events(search: Any) -> dict[str, Any]:
    from django.db import IntegrityError, transaction

    from webapp.searches.events import events_after, store_event
    from webapp.searches.models import Search, SearchEvent

    def event(seq: int, type_: str = "log") -> dict[str, Any]:
        payload = {"loss": 0.5, "nested": {"a": [1, 2]}}
        return {"seq": seq, "type": type_, "time": time.time(), "payload": payload}

    first = [store_event(search.pk, event(seq)) for seq in range(1, 6)]
    again = store_event(search.pk, event(3))
    try:
        with transaction.atomic():
            SearchEvent.objects.create(search=search, seq=2, type="log", time=0.0)
        raw = "stored twice"
    except IntegrityError:
        raw = "IntegrityError"
    with transaction.atomic():  # a re-delivered event, then a new one, in one transaction
        store_event(search.pk, event(4))
        store_event(search.pk, event(6, "status"))
        survives = SearchEvent.objects.filter(search=search, seq=6).exists()
    seqs = list(SearchEvent.objects.filter(search=search).order_by("seq").values_list("seq", flat=True))
    after = events_after(search.pk, 3)
    return {"first_store": first, "again": again, "raw_duplicate": raw,
            "outer_transaction_survives": survives, "seqs": seqs,
            "last_seq": Search.objects.get(pk=search.pk).last_seq,
            "after_3": [e["seq"] for e in after], "payload": after[0]["payload"]}


def _in_thread(target: Any, results: list[Any]) -> threading.Thread:
    from django.db import connection

    def run() -> None:
        try:
            results.append(target())
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _race(search_id: int) -> list[str]:
    """Two workers claim the same queued search at the same moment."""
    from worker.lease import claim

    barrier, results = threading.Barrier(2), []

    def one() -> str:
        barrier.wait()
        return claim(search_id).outcome

    for thread in [_in_thread(one, results), _in_thread(one, results)]:
        thread.join(30)
    return results


def _blocked(search_id: int) -> dict[str, Any]:
    """The first claim holds its row lock in an open transaction; the second must wait, then lose."""
    from django.db import transaction

    from worker.lease import claim

    locked, first, second = threading.Event(), [], []

    def holder() -> str:
        with transaction.atomic():
            outcome = claim(search_id).outcome
            locked.set()
            time.sleep(0.8)
        return outcome

    def waiter() -> tuple[str, float]:
        locked.wait(10)
        start = time.monotonic()
        return claim(search_id).outcome, time.monotonic() - start

    threads = [_in_thread(holder, first), _in_thread(waiter, second)]
    for thread in threads:
        thread.join(30)
    (outcome, waited), = second
    return {"first": first[0], "second": outcome, "second_waited": waited > 0.5}


def _check_claims(user: Any) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from webapp.searches.models import Search
    from worker.lease import claim, renew

    races = [Search.objects.create(owner=user, name=f"race {i}", config={}) for i in range(4)]
    outcomes = [_race(s.pk) for s in races]
    attempts = [Search.objects.get(pk=s.pk).attempts for s in races]
    blocked = _blocked(Search.objects.create(owner=user, name="blocked", config={}).pk)

    search = races[0]
    old_owner = Search.objects.get(pk=search.pk).lease_owner
    Search.objects.filter(pk=search.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = claim(search.pk)  # the first worker died: its lease ran out
    row = Search.objects.get(pk=search.pk)
    return {"races": outcomes, "race_attempts": attempts, "blocked": blocked,
            "expired": {"outcome": taken.outcome, "attempts": row.attempts,
                        "old_renews": renew(search.pk, old_owner),
                        "new_renews": renew(search.pk, taken.owner)}}


def _check_truncate(search: Any) -> dict[str, Any]:
    from webapp.searches.events import store_event
    from webapp.searches.models import Search, SearchEvent
    from worker.sink import DbChannelSink

    sink = DbChannelSink(search.pk)
    sink.truncate_after(2)
    remaining = list(SearchEvent.objects.filter(search=search).order_by("seq").values_list("seq", flat=True))
    last_seq = Search.objects.get(pk=search.pk).last_seq
    restored = store_event(search.pk, {"seq": 3, "type": "progress", "time": time.time(), "payload": {}})
    return {"remaining": remaining, "last_seq": last_seq, "sink_last_seq": sink.last_seq,
            "restored": restored}


def main() -> None:
    import django

    django.setup()
    out = _check_settings()
    user, out["user"] = _check_user()
    search, out["dataset"], out["search"] = _check_dataset_and_search(user)
    out["events"] = _check_events(search)
    out["claims"] = _check_claims(user)
    out["truncate"] = _check_truncate(search)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
