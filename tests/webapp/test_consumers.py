from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.asgi import application
from webapp.searches.events import store_event
from webapp.searches.models import Search
from webapp.searches.realtime import event_to_message, search_group

pytestmark = pytest.mark.django_db
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # the origin check compares Origin with the Host it was sent to


def _event(seq: int, type_: str = "log") -> dict[str, Any]:
    return {"seq": seq, "type": type_, "time": 1000.0 + seq, "payload": {"n": seq}}


@pytest.fixture
def search(user) -> Search:
    search = Search.objects.create(owner=user, name="s", config={})
    for seq in (1, 2, 3):
        store_event(search.pk, _event(seq))
    return search


def _token(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Token {regenerate_token(user)}".encode())


def _communicator(search_id: int, headers: list[tuple[bytes, bytes]], after: int | None = 0):
    query = "" if after is None else f"?after={after}"
    return WebsocketCommunicator(application, f"/ws/searches/{search_id}/{query}", headers=[HOST, *headers])


def _run(coro_fn) -> Any:
    return async_to_sync(coro_fn)()


def test_foreign_origin_is_refused_even_with_a_token(search, user) -> None:
    token = _token(user)

    async def scenario() -> tuple[bool, Any]:
        comm = _communicator(search.pk, [(b"origin", b"http://evil.example"), token])
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    assert _run(scenario) is False


def test_missing_origin_without_a_token_is_refused(search) -> None:
    async def scenario() -> bool:
        comm = _communicator(search.pk, [])
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    assert _run(scenario) is False


@pytest.mark.parametrize("who", ["anonymous", "bad-token", "other-user", "missing"])
def test_not_allowed_viewers_are_closed_with_a_reason(search, other_user, who) -> None:
    headers = {"anonymous": [ORIGIN], "bad-token": [ORIGIN, (b"authorization", b"Token nope")],
               "other-user": [ORIGIN, _token(other_user)], "missing": [ORIGIN, _token(search.owner)]}[who]
    search_id = search.pk + 1000 if who == "missing" else search.pk

    async def scenario() -> dict[str, Any]:
        comm = _communicator(search_id, headers)
        await comm.connect()
        closed = await comm.receive_output(timeout=2)
        await comm.disconnect()
        return closed

    closed = _run(scenario)
    assert closed["type"] == "websocket.close"
    assert closed["code"] == (4403 if who in ("anonymous", "bad-token") else 4404)


def test_replay_after_n_then_live_events_exactly_once(search, user) -> None:
    layer, token = get_channel_layer(), _token(user)

    async def scenario() -> list[int]:
        comm = _communicator(search.pk, [token], after=1)  # a script: token, no Origin
        connected, _ = await comm.connect()
        assert connected
        got = [(await comm.receive_json_from(timeout=2))["seq"] for _ in range(2)]
        # a push that raced the replay (seq 3 again), then a new event
        await layer.group_send(search_group(search.pk), event_to_message(_event(3)))
        await layer.group_send(search_group(search.pk), event_to_message(_event(4, "progress")))
        message = await comm.receive_json_from(timeout=2)
        got.append(message["seq"])
        assert message == _event(4, "progress")
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()
        return got

    assert _run(scenario) == [2, 3, 4]


def test_session_cookie_viewer_with_allowed_origin_gets_the_full_replay(search, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> list[int]:
        comm = _communicator(search.pk, [ORIGIN, (b"cookie", cookie.encode())], after=None)
        connected, _ = await comm.connect()
        assert connected
        seqs = [(await comm.receive_json_from(timeout=2))["seq"] for _ in range(3)]
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()
        return seqs

    assert _run(scenario) == [1, 2, 3]


def test_a_rewind_lets_the_events_emitted_again_through(search, user) -> None:
    """A resumed search drops events 3.. and emits new ones with those numbers: an open socket
    that already sent the old 3 must send the new 3 (with its new time), and 4 after it."""
    layer, token = get_channel_layer(), _token(user)
    again = {**_event(3, "status"), "time": 5000.0}

    async def scenario() -> list[tuple[int, float]]:
        comm = _communicator(search.pk, [token], after=0)
        assert (await comm.connect())[0]
        got = [(await comm.receive_json_from(timeout=2))["seq"] for _ in range(3)]
        assert got == [1, 2, 3]
        await layer.group_send(search_group(search.pk), {"type": "search.rewind", "seq": 2})
        await layer.group_send(search_group(search.pk), event_to_message(again))
        await layer.group_send(search_group(search.pk), event_to_message(_event(4)))
        out = [await comm.receive_json_from(timeout=2) for _ in range(2)]
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()
        return [(m["seq"], m["time"]) for m in out]

    assert _run(scenario) == [(3, 5000.0), (4, 1004.0)]


@pytest.mark.parametrize(("seen_time", "expected"), [(1002.0, [3]), (1500.0, [1, 2, 3]), (None, [3])])
def test_a_reconnect_whose_last_event_was_replaced_gets_everything(search, user, seen_time, expected) -> None:
    """``?after=2&t=<time of the viewer's event 2>``: the same stored event -> replay after 2;
    another one (the search was resumed before 2 and emitted a new 2) -> the whole replay."""
    token = _token(user)
    query = f"?after=2&t={seen_time}" if seen_time is not None else "?after=2"

    async def scenario() -> list[int]:
        comm = WebsocketCommunicator(application, f"/ws/searches/{search.pk}/{query}", headers=[token])
        assert (await comm.connect())[0]
        seqs = []
        while not await comm.receive_nothing(timeout=0.2):
            seqs.append((await comm.receive_json_from(timeout=2))["seq"])
        await comm.disconnect()
        return seqs

    assert _run(scenario) == expected
