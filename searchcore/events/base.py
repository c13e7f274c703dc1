"""``Event`` (the wire record), the ``EventSink`` protocol and the ``Emitter`` that numbers events.

Every event a search produces goes through one ``Emitter``, which checks the payload against the
event type's dataclass (``searchcore.events.types``), stamps ``seq`` (1, 2, 3 ...) and ``time`` and
hands the event to a sink. The emitter's counter is part of the search checkpoint, so a resumed
search continues the sequence without gaps or duplicates.

The wire format is ``{"seq", "type", "time", "payload"}`` with the payload a plain dict (stored
rows, the websocket and the browser read it); ``Event.data`` is the same payload typed.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from searchcore.events.types import EventData, event_class, event_data


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
        """Lenient: a stored row is read as it is; ``data`` checks it against its type."""
        return cls(seq=int(data["seq"]), type=str(data["type"]), time=float(data["time"]),
                   payload=dict(data.get("payload") or {}))

    @property
    def data(self) -> EventData:
        """The payload as its type's frozen dataclass (``TypeError``/``ValueError`` if it does not fit)."""
        return event_data(self.type, self.payload)


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class Emitter:
    """Checks payloads, stamps ``seq`` and ``time`` on events and forwards them to a sink.

    ``emit("controller_step", step=1, ...)`` builds the typed payload from keywords (an unknown or
    missing field raises, naming the type and field); ``emit(ControllerStep(...))`` takes it typed.
    """

    def __init__(self, sink: EventSink, last_seq: int = 0) -> None:
        self.sink = sink
        self.last_seq = last_seq

    def emit(self, type_or_data: str | EventData, /, **payload: Any) -> Event:
        data = typed_payload(type_or_data, payload)
        self.last_seq += 1
        event = Event(seq=self.last_seq, type=data.type, time=time.time(),
                      payload=json_safe(data.to_payload()))
        self.sink.emit(event)
        return event


def typed_payload(type_or_data: str | EventData, payload: dict[str, Any]) -> EventData:
    if isinstance(type_or_data, EventData):
        if payload:
            raise TypeError(f"{type_or_data.type} event: pass a typed payload or keywords, not both")
        return type_or_data
    return event_class(type_or_data).from_payload(payload)


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
