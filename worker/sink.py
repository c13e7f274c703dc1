"""``DbChannelSink``: every search event becomes a ``SearchEvent`` row, then a channel-group push.

Row first, push second: a viewer that misses a push (Redis hiccup, reconnect) heals it by
replaying stored rows, never the other way round. The sink also keeps the ``Search`` row's
summary fields (progress, phase, ETA, best) current as events pass.

A run has stages (search, then final training), each reporting its own ``fraction``, ETA and
elapsed time. The runner tells the sink which part of the whole a stage is (``set_stage``), and
the sink adds the whole-run view to every ``progress`` payload before storing it, so the live page
and the searches list show the same numbers: ``overall_fraction`` (never going back within a
run), ``overall_eta_seconds`` (with the later stages' budget) and ``total_elapsed_seconds``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q

from searchcore.events import Event, Progress, json_safe
from webapp.searches import events as stored_events
from webapp.searches import realtime
from webapp.searches.models import Search

logger = logging.getLogger(__name__)


class DbChannelSink:
    def __init__(self, search_id: int, *, last_seq: int | None = None,
                 lease_owner: str | None = None) -> None:
        self.search_id = search_id
        self.lease_owner = lease_owner  # set: write only while this worker holds the lease
        self.lease_lost = False
        if last_seq is None:
            last_seq = Search.objects.filter(pk=search_id).values_list("last_seq", flat=True).get()
        self.last_seq = last_seq
        self.span = (0.0, 1.0)  # the part of the overall progress bar the current stage fills
        self.eta_extra = 0.0  # seconds of later stages to add to a stage's ETA
        self.elapsed_before = 0.0  # seconds the earlier stages took
        self._overall = 0.0

    def emit(self, event: Event) -> None:
        data = event.to_dict()
        if event.type == Progress.type:  # the additions are declared fields of ``Progress``: checked
            typed = Progress.from_payload({**data["payload"], **self._overall_view(data["payload"])})
            data["payload"] = json_safe(typed.to_payload())
        if self.lease_lost:
            return
        try:
            stored_events.store_event(self.search_id, data, lease_owner=self.lease_owner)
        except stored_events.LeaseLost:
            logger.warning("search %s: lease lost; dropping this worker's events from seq %s on",
                           self.search_id, event.seq)
            self.lease_lost = True
            return
        self.last_seq = max(self.last_seq, event.seq)
        self._update_summary(event.type, data["payload"])
        realtime.publish(self.search_id, data)

    def truncate_after(self, seq: int) -> None:
        """Drop the events after ``seq`` (a resumed stage emits them again; viewers are told)."""
        stored_events.truncate_after(self.search_id, seq)
        self.last_seq = seq

    def set_stage(self, start: float, end: float, eta_extra: float = 0.0,
                  elapsed_before: float = 0.0) -> None:
        self.span = (start, end)
        self.eta_extra = eta_extra
        self.elapsed_before = elapsed_before

    def _overall_view(self, payload: dict[str, Any]) -> dict[str, Any]:
        start, end = self.span
        fraction = min(max(float(payload.get("fraction") or 0.0), 0.0), 1.0)
        self._overall = max(self._overall, start + (end - start) * fraction)
        eta = payload.get("eta_seconds")
        elapsed = self.elapsed_before + float(payload.get("elapsed_seconds") or 0.0)
        return {"overall_fraction": round(self._overall, 4),
                "overall_eta_seconds": None if eta is None else round(float(eta) + self.eta_extra, 1),
                "total_elapsed_seconds": round(elapsed, 1)}

    def _update_summary(self, type_: str, payload: dict[str, Any]) -> None:
        fields = self._summary_fields(type_, payload)
        if fields:
            # never touch a search that already ended (a late event of a lost lease)
            Search.objects.filter(Q(pk=self.search_id), ~Q(status__in=Search.FINAL)).update(**fields)

    def _summary_fields(self, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        if type_ == "progress":
            return {"progress": payload["overall_fraction"], "phase": payload.get("phase") or "",
                    "eta_seconds": payload["overall_eta_seconds"]}
        if type_ == "status":
            return {"phase": str(payload.get("status", ""))[:32], "message": str(payload.get("message", ""))}
        if type_ == "best":
            keys = ("architecture", "reward", "step", "graph", "degenerate")  # degenerate: the reasons, or []
            return {"best": {k: payload.get(k) for k in keys}}
        return {}
