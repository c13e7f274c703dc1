"""Search events: frozen dataclasses with a monotonic ``seq`` per search, and sinks.

Every event a search produces goes through one ``Emitter``, which stamps ``seq`` (1, 2, 3 ...)
and ``time`` and hands the event to a sink. The emitter's counter is part of the search
checkpoint, so a resumed search continues the sequence without gaps or duplicates.

Event types (``type`` field) and their payloads, as emitted now (
``searchcore.search``, ``searchcore.training`` and ``worker.runner`` / ``worker.sink``):

- ``status``: ``{"status": str, "message": str}`` plus, by status:
  ``running`` (search started; after a resume also ``"resumed_after": int``, the checkpoint's
  last seq: later events were dropped and are emitted again, so a viewer replays), ``deriving``,
  ``search_ended`` (only when the caller continues the stream, ``emit_finished=False``: adds
  ``"search_status": "succeeded" | "cancelled"`` and ``"best": {"architecture", "reward"} | None``),
  ``training`` and ``cancelled`` (final training), ``exporting`` (worker, building the package).
- ``progress``: ``{"phase": str, "fraction": float 0..1, "eta_seconds": float | None,
  "epoch": int, "archs_evaluated": int, "elapsed_seconds": float}``; ``fraction``, ETA and elapsed
  are those of the current stage (phase ``searching`` / ``deriving`` / ``final``; ``final`` reports
  ``archs_evaluated`` 0). The worker's sink adds the whole run's view before storing it:
  ``"overall_fraction": float`` (never going back), ``"overall_eta_seconds": float | None`` and
  ``"total_elapsed_seconds": float``.
- ``controller_step``: ``{"step": int, "archs_evaluated": int, "reward": float, "baseline": float,
  "entropy": float, "loss": float, "log_prob": float}`` (``ControllerStats`` plus the counters).
- ``child_train``: ``{"epoch": int, "loss": float, "accuracy": float, "valid_accuracy": float | None}``
  (shared-weights evaluators only; ``valid_accuracy`` is the mean controller reward of the epoch).
- ``arch_sampled``: ``{"step": int, "architecture": dict, "reward": float, "graph": dict}``
- ``best``: ``{"step": int, "architecture": dict, "reward": float, "graph": dict}``; the one
  chosen by deriving on the whole validation split adds ``"derived": true``.
- ``final_epoch``: ``{"epoch": int, "epochs": int, "loss": float, "accuracy": float,
  "valid_accuracy": float | None, "lr": float}``
- ``evaluation``: ``{"metrics": dict}`` (test accuracy and loss, confusion matrix, per-class and
  macro P/R/F1, best epoch, history; see ``searchcore.training.final``)
- ``log``: ``{"level": str, "message": str}`` (a failed search whose caller emits ``finished``)
- ``finished``: ``{"status": "succeeded" | "failed" | "cancelled", "message": str,
  "best": {"architecture", "reward"} | None}`` (from the loop, or from the worker after all stages)

NaN and infinities in payloads become ``None`` (JSON ``null``) when emitted (``json_safe``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from searchcore.files import atomic_write_text

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "status",
    "progress",
    "controller_step",
    "child_train",
    "arch_sampled",
    "best",
    "final_epoch",
    "evaluation",
    "log",
    "finished",
)


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    time: float
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(seq=int(data["seq"]), type=str(data["type"]), time=float(data["time"]),
                   payload=dict(data.get("payload") or {}))


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class Emitter:
    """Stamps ``seq`` and ``time`` on events and forwards them to a sink."""

    def __init__(self, sink: EventSink, last_seq: int = 0) -> None:
        self.sink = sink
        self.last_seq = last_seq

    def emit(self, type_: str, **payload: Any) -> Event:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type_!r}")
        self.last_seq += 1
        event = Event(seq=self.last_seq, type=type_, time=time.time(), payload=json_safe(payload))
        self.sink.emit(event)
        return event


def json_safe(value: Any) -> Any:
    """Replace NaN/Infinity (a diverging loss) with ``None``: strict JSON, PostgreSQL's ``jsonb`` and
    browsers all reject them, and an event must never be lost or crash its sink because of one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class ListSink:
    """Keeps events in memory (tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, type_: str) -> list[Event]:
        return [e for e in self.events if e.type == type_]


class LoggingSink:
    def __init__(self, log: logging.Logger | None = None) -> None:
        self.log = log or logger

    def emit(self, event: Event) -> None:
        self.log.info("event %s %s %s", event.seq, event.type, event.payload)


class FanoutSink:
    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)


class JsonlSink:
    """Appends one JSON object per line and flushes, so a killed process loses at most a line.

    ``truncate_after(seq)`` drops lines with a larger ``seq`` (and a torn last line); a resumed
    search calls it with the checkpoint's ``last_seq`` so the file has no duplicated step.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, event: Event) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event.to_dict()) + "\n")
            fh.flush()

    def read(self) -> list[Event]:
        return read_events(self.path)

    def truncate_after(self, seq: int) -> None:
        kept = [e for e in self.read() if e.seq <= seq]
        atomic_write_text(self.path, "".join(json.dumps(event.to_dict()) + "\n" for event in kept))


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    events: list[Event] = []
    p = Path(path)
    if not p.exists():
        return events
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            events.append(Event.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            logger.warning("skipping a torn line in %s", p)
    return events
