"""Live search events over a websocket: ``/ws/searches/<id>/?after=N``.

``connect`` checks ownership, joins the group *first*, then replays stored events with
``seq > after``; live messages queued meanwhile are dispatched after ``connect`` returns and
are dropped when their ``seq`` was already sent, so a viewer gets every event exactly once.

A resumed search drops its events after the checkpoint and emits new ones with the same numbers.
Viewers connected at the time get a rewind message and let those through again; a viewer that
reconnects says which event it saw last (``?after=N&t=<its time>``), and when the stored event
``N`` is no longer that one it gets the whole replay. Either way the browser sees a known ``seq``
with a new ``time`` and rebuilds its view from a fresh replay.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from webapp.searches import realtime
from webapp.searches.events import event_time, events_after
from webapp.searches.models import Search

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403  # not signed in
CLOSE_NOT_FOUND = 4404  # no such search, or not yours
CLOSE_TRY_AGAIN = 1013  # the channel layer (Redis) is unreachable: the page retries with back-off
LAYER_ERRORS = (OSError, RedisError)  # redis-py's ConnectionError/TimeoutError are RedisErrors
REPLAY_BATCH = 500


class SearchConsumer(AsyncJsonWebsocketConsumer):
    search_id: int = 0
    last_sent: int = 0
    group: str | None = None
    accepted: bool = False
    layer_failed: bool = False

    # A Redis outage ends the socket with 1013 (the handshake accepted first), never an HTTP 500:
    # in the handlers (``dispatch``), in the layer's receive loop (``channel_receive``) and, for
    # the pub/sub layer, in ``new_channel`` (``__call__``).
    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        try:
            return await super().__call__(scope, receive, send)
        except LAYER_ERRORS as exc:
            logger.warning("websocket: channel layer unavailable (%s); closing with %s", type(exc).__name__,
                           CLOSE_TRY_AGAIN)
            if not self.accepted:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})

    @property
    def channel_receive(self) -> Any:
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, layer_receive: Any) -> None:
        """Set by channels before it starts receiving: a failing layer becomes one ``layer.down`` message."""
        async def guarded() -> dict[str, Any]:
            if self.layer_failed:
                await asyncio.Event().wait()  # already closing; the disconnect ends the consumer
            try:
                return await layer_receive()
            except LAYER_ERRORS as exc:
                self.layer_failed = True
                return {"type": "layer.down", "error": type(exc).__name__}

        self._channel_receive = guarded

    async def layer_down(self, message: dict[str, Any]) -> None:
        await self._layer_down(message["error"])

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        self.accepted = True
        await super().accept(subprotocol, headers)

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            await super().dispatch(message)
        except LAYER_ERRORS as exc:
            await self._layer_down(type(exc).__name__)

    async def _layer_down(self, error: str) -> None:
        logger.warning("search %s: channel layer unavailable (%s); closing with %s", self.search_id,
                       error, CLOSE_TRY_AGAIN)
        self.group = None  # nothing to discard: Redis is what failed
        if not self.accepted:
            await self.accept()
        await self.close(code=CLOSE_TRY_AGAIN)

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
        self.last_sent = await self._replay_start()
        await self._replay()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Viewers only listen; anything they send is ignored."""

    async def search_event(self, message: dict[str, Any]) -> None:
        await self._send(message["seq"], message["text"])

    async def search_rewind(self, message: dict[str, Any]) -> None:
        """Events after ``seq`` were dropped (a resumed search): their successors must go out."""
        self.last_sent = min(self.last_sent, int(message["seq"]))

    async def _replay_start(self) -> int:
        after, seen_time = _after(self.scope)
        if after and seen_time is not None:
            stored = await database_sync_to_async(event_time)(self.search_id, after)
            if stored is None or abs(stored - seen_time) > 1e-6:
                return 0  # the viewer's event ``after`` was replaced: send everything
        return after

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


def _after(scope: dict[str, Any]) -> tuple[int, float | None]:
    """``?after=N`` (default 0) and the optional ``t``: the time of the viewer's event ``N``."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    try:
        after = max(0, int(query.get("after", ["0"])[0]))
    except ValueError:
        after = 0
    try:
        seen_time = float(query["t"][0]) if "t" in query else None
    except ValueError:
        seen_time = None
    return after, seen_time if seen_time is None or math.isfinite(seen_time) else None
