"""``DbChannelSink``: every search event becomes a ``SearchEvent`` row, then a channel-group push.

Row first, push second: a viewer that misses a push (Redis hiccup, reconnect) heals it by
replaying stored rows, never the other way round. The sink also keeps the ``Search`` row's
summary fields (progress, phase, ETA, best) current as events pass.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q

from searchcore.events import Event
from webapp.searches import events as stored_events
from webapp.searches import realtime
from webapp.searches.models import Search

logger = logging.getLogger(__name__)


class DbChannelSink:
    def __init__(self, search_id: int, *, last_seq: int | None = None) -> None:
        self.search_id = search_id
        if last_seq is None:
            last_seq = Search.objects.filter(pk=search_id).values_list("last_seq", flat=True).get()
        self.last_seq = last_seq
        self.span = (0.0, 1.0)  # the part of the overall progress bar the current stage fills
        self.eta_extra = 0.0  # seconds of later stages to add to a stage's ETA

    def emit(self, event: Event) -> None:
        data = event.to_dict()
        stored_events.store_event(self.search_id, data)
        self.last_seq = max(self.last_seq, event.seq)
        self._update_summary(event)
        realtime.publish(self.search_id, data)

    def truncate_after(self, seq: int) -> None:
        stored_events.truncate_after(self.search_id, seq)
        self.last_seq = seq

    def set_stage(self, start: float, end: float, eta_extra: float = 0.0) -> None:
        self.span = (start, end)
        self.eta_extra = eta_extra

    def _update_summary(self, event: Event) -> None:
        fields = self._summary_fields(event.type, event.payload)
        if fields:
            # never touch a search that already ended (a late event of a lost lease)
            Search.objects.filter(Q(pk=self.search_id), ~Q(status__in=Search.FINAL)).update(**fields)

    def _summary_fields(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        if type_ == "progress":
            start, end = self.span
            fraction = min(max(float(payload.get("fraction") or 0.0), 0.0), 1.0)
            eta = payload.get("eta_seconds")
            return {"progress": round(start + (end - start) * fraction, 4),
                    "phase": payload.get("phase") or "",
                    "eta_seconds": None if eta is None else float(eta) + self.eta_extra}
        if type_ == "status":
            return {"phase": str(payload.get("status", ""))[:32], "message": str(payload.get("message", ""))}
        if type_ == "best":
            return {"best": {k: payload.get(k) for k in ("architecture", "reward", "step", "graph")}}
        return {}
