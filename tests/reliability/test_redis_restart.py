"""Issue 11 item 7: websocket handshakes during a Redis outage get a clear close (1013), not HTTP 500,
and a client that retries is live again once Redis is back. Real Redis, real uvicorn (2 workers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.stack import LiveStack, live_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CLOSE_TRY_AGAIN = 1013


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    with live_stack(workers=()) as running:
        yield running


def _make_search(stack: LiveStack, username: str) -> int:
    code = ("from django.contrib.auth import get_user_model; from webapp.searches.models import Search; "
            f"print(Search.objects.create(owner=get_user_model().objects.get(username={username!r}), "
            "name='s', config={}).pk)")
    return int(stack.manage("shell", "-c", code).strip().splitlines()[-1])


def _open(stack: LiveStack, token: str, search_id: int):
    return connect(f"{stack.ws_url}/ws/searches/{search_id}/?after=0",
                   additional_headers={"Authorization": f"Token {token}"}, open_timeout=15)


def test_handshake_during_a_redis_outage_closes_cleanly_and_a_retry_recovers(stack: LiveStack) -> None:
    token = stack.create_user("watcher", "correct-horse-42")
    search_id = _make_search(stack, "watcher")
    redis = stack.service("redis")
    redis.stop()
    stack.services.remove(redis)
    try:
        for _ in range(3):  # every handshake while Redis is down, on whichever web process
            with _open(stack, token, search_id) as ws, pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=15)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_TRY_AGAIN
    except InvalidStatus as exc:  # the handshake itself failed (the old HTTP 500)
        pytest.fail(f"handshake answered HTTP {exc.response.status_code} during the Redis outage")
    finally:
        stack._start_redis()
    deadline, last_error = time.monotonic() + 20, None
    while time.monotonic() < deadline:  # what live.js does: retry with back-off until it stays open
        try:
            with _open(stack, token, search_id) as ws:
                stack.emit(search_id, 1)
                event = json.loads(ws.recv(timeout=15))
                assert event["seq"] == 1
                return
        except (ConnectionClosed, InvalidStatus, TimeoutError, OSError) as exc:
            last_error = exc
            time.sleep(0.5)
    pytest.fail(f"no live websocket 20 s after Redis came back: {last_error!r}")
