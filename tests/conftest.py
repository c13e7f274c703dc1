"""Shared fixtures.

Unit tests run under pytest-django with ``webapp.settings_test`` (in-memory channel layer, a
memory broker); they patch ``send_task`` through ``enqueued``. Integration and e2e tests use the
session-wide ``live_stack``: real Redis, Celery workers and the uvicorn web server (see ``tests/stack.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.stack import LiveStack
from tests.stack import live_stack as start_live_stack

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    """Real Redis + Celery workers (``searches``, ``datasets``) + uvicorn, for the whole session."""
    with start_live_stack() as stack:
        yield stack


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def enqueued() -> Iterator[list[tuple[str, list[Any]]]]:
    """Patches ``send_task``; yields the ``(task name, args)`` sent, in order."""
    sent: list[tuple[str, list[Any]]] = []
    def record(name: str, args: list[Any]) -> None:
        sent.append((name, args))

    with mock.patch("webapp.celery_app.app.send_task", side_effect=record):
        yield sent


@pytest.fixture
def make_user(db: Any) -> Any:
    from webapp.accounts.services import create_user

    def make(username: str = "alice", password: str = "correct-horse-42") -> Any:
        return create_user(username, password)

    return make


@pytest.fixture
def user(make_user: Any) -> Any:
    return make_user("alice")


@pytest.fixture
def other_user(make_user: Any) -> Any:
    return make_user("mallory")
