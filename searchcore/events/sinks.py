"""In-library event sinks: a list (tests), a JSON-lines file (CLI, search directories), logging, fan-out."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from searchcore.events.base import Event, EventSink
from searchcore.files import atomic_write_text

logger = logging.getLogger("searchcore.events")


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
