"""The one place for realtime names: the channel group of a search and its message type.

The worker's sink and the websocket consumer both use these, and ``publish`` is how any
process pushes a stored event to the browsers watching a search.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "search.event"  # dispatched to ``SearchConsumer.search_event``
REWIND_TYPE = "search.rewind"  # dispatched to ``SearchConsumer.search_rewind``


def search_group(search_id: int) -> str:
    return f"search-{int(search_id)}"


def event_to_message(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event (``{"seq", "type", "time", "payload"}``) as a channel-layer message.

    The event travels already JSON-encoded: with many viewers of one search, each consumer
    forwards the same text instead of encoding the event again.
    """
    data = {"seq": int(event["seq"]), "type": event["type"], "time": event["time"],
            "payload": event.get("payload") or {}}
    return {"type": MESSAGE_TYPE, "seq": data["seq"], "text": json.dumps(data)}


def publish(search_id: int, event: dict[str, Any]) -> bool:
    """Push one (already stored) event to the search's group; a failure is logged, not raised.

    The row is the truth: a viewer that misses a push heals it by replay (``?after=<seq>``).
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(search_group(search_id), event_to_message(event))
    except Exception:  # noqa: BLE001 - Redis down must never lose the search
        logger.warning("could not push event %s of search %s", event.get("seq"), search_id, exc_info=True)
        return False
    return True


def publish_rewind(search_id: int, seq: int) -> bool:
    """Tell the search's viewers that the events after ``seq`` were dropped and will come again.

    Not an event (nothing is stored): the consumers lower their "already sent" mark, and the
    browsers notice the re-sent numbers by their new ``time``.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(search_group(search_id), {"type": REWIND_TYPE, "seq": int(seq)})
    except Exception:  # noqa: BLE001 - as in publish
        logger.warning("could not push the rewind of search %s to %s", search_id, seq, exc_info=True)
        return False
    return True
