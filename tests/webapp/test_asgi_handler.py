"""The HTTP path the servers take: the ASGI handler's sync middleware chain, and the list page's queries."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.test import Client

from webapp.asgi import application, django_asgi_app
from webapp.searches.models import Search
from webapp.searches.services import cancel_search, queue_position, queue_positions

pytestmark = pytest.mark.django_db(transaction=True)


def _get(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    headers = [(b"host", b"127.0.0.1"), *(headers or [])]
    communicator = HttpCommunicator(application, "GET", path, headers=headers)
    return async_to_sync(communicator.get_response)()


def test_the_middleware_chain_runs_synchronously_in_one_hop() -> None:
    # an async chain would cross to a thread for every middleware method (see SyncChainASGIHandler)
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_pages_are_served_through_the_asgi_app(user) -> None:
    anonymous = _get("/searches/")
    assert anonymous["status"] == 302
    assert dict(anonymous["headers"])[b"Location"] == b"/login/?next=/searches/"
    Search.objects.create(owner=user, name="visible through asgi", config={})
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    page = _get("/searches/", [(b"cookie", cookie)])
    assert page["status"] == 200 and b"visible through asgi" in page["body"]


def test_queue_positions_match_queue_position_in_one_query(user, django_assert_num_queries) -> None:
    searches = [Search.objects.create(owner=user, name=f"s{i}", config={}) for i in range(4)]
    cancel_search(searches[1])
    searches[1].refresh_from_db()
    with django_assert_num_queries(1):
        positions = queue_positions(searches)
    assert positions == {s.pk: queue_position(s) for s in searches if s.status == Search.QUEUED}
    assert list(positions.values()) == [1, 2, 3]
    with django_assert_num_queries(0):
        assert queue_positions([searches[1]]) == {}
