"""Live search events over a websocket: ``/ws/searches/<id>/?after=N``.

``connect`` checks ownership, joins the group *first*, then replays stored events with
``seq > after``; live messages queued meanwhile are dispatched after ``connect`` returns and
are dropped when their ``seq`` was already sent, so a viewer gets every event exactly once.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.searches import realtime
from webapp.searches.events import events_after
from webapp.searches.models import Search

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403  # not signed in
CLOSE_NOT_FOUND = 4404  # no such search, or not yours
REPLAY_BATCH = 500


class SearchConsumer(AsyncJsonWebsocketConsumer):
    search_id: int = 0
    last_sent: int = 0
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.search_id = int(self.scope["url_route"]["kwargs"]["search_id"])
        if not await self._owns_search(user):
            await self.accept()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = realtime.search_group(self.search_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.last_sent = _after(self.scope)
        await self._replay()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Viewers only listen; anything they send is ignored."""

    async def search_event(self, message: dict[str, Any]) -> None:
        await self._send(message["seq"], message["text"])

    async def _replay(self) -> None:
        while True:
            batch = await database_sync_to_async(events_after)(self.search_id, self.last_sent, REPLAY_BATCH)
            for event in batch:
                await self._send(event["seq"], json.dumps(event))
            if len(batch) < REPLAY_BATCH:
                return

    async def _send(self, seq: int, text: str) -> None:
        if seq <= self.last_sent:
            return  # already sent (a live push that raced the replay, or a re-delivery)
        self.last_sent = seq
        await self.send(text_data=text)

    @database_sync_to_async
    def _owns_search(self, user: Any) -> bool:
        return Search.objects.for_owner(user).filter(pk=self.search_id).exists()


def _after(scope: dict[str, Any]) -> int:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    try:
        return max(0, int(query.get("after", ["0"])[0]))
    except ValueError:
        return 0
