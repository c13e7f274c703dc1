"""Issue 11 item 7: the websocket Origin check compares scheme, host *and* port (with a session cookie)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from webapp.asgi import application
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db


def _connects(search_id: int, cookie: str, origin: str, host: str = "127.0.0.1:8000") -> bool:
    headers = [(b"host", host.encode()), (b"origin", origin.encode()),
               (b"cookie", f"sessionid={cookie}".encode())]

    async def scenario() -> bool:
        comm = WebsocketCommunicator(application, f"/ws/searches/{search_id}/", headers=headers)
        connected, _ = await comm.connect()
        if connected:
            assert await comm.receive_nothing(0.2)  # open (no events to replay), not closed
        await comm.disconnect()
        return connected

    return async_to_sync(scenario)()


@pytest.fixture
def cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def search(user) -> Search:
    return Search.objects.create(owner=user, name="s", config={})


def test_own_origin_is_accepted(search, cookie) -> None:
    assert _connects(search.pk, cookie, "http://127.0.0.1:8000")


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "https://127.0.0.1:8000",
                                    "http://evil.example:8000", "null", "http://127.0.0.1:8000.evil.example"])
def test_other_origins_are_refused(search, cookie, origin: str) -> None:
    assert not _connects(search.pk, cookie, origin)


def test_host_outside_allowed_hosts_is_refused(search, cookie) -> None:
    assert not _connects(search.pk, cookie, "http://evil.example:8000", host="evil.example:8000")


def test_trusted_origins_match_on_scheme_host_and_port() -> None:
    from webapp.accounts.middleware import TokenOrOriginValidator

    validator = TokenOrOriginValidator(None, ["https://nas.example.org"])
    scope = {"headers": [(b"host", b"127.0.0.1:8000")], "scheme": "ws"}
    assert validator.allowed(scope, "https://nas.example.org:443")
    assert not validator.allowed(scope, "https://nas.example.org:8443")
