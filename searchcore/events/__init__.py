"""Search events: a monotonic ``seq`` per search, one frozen dataclass per event type, and sinks.

- ``base``: ``Event`` (the wire record ``{"seq", "type", "time", "payload"}``), ``Emitter`` (checks
  the payload against its type, numbers and stamps events), ``EventSink``, ``json_safe``.
- ``types``: one frozen dataclass per event type (``Status``, ``Progress``, ``ControllerStep`` ...);
  their fields are the payload contract, ``EVENT_CLASSES`` maps the wire name to the class.
- ``sinks``: list, JSON-lines file, logging and fan-out sinks; ``read_events``.
- ``catalogue``: generates ``docs/events.md`` (the documented list of types and fields) and
  ``frontend/static/js/event_types.json`` (the browser's list, with an example of each type) from
  the dataclasses: ``python -m searchcore.events.catalogue`` (``--check`` to test they are current).

See ``docs/events.md`` for every type's fields; it is generated, so it cannot drift from the code.
"""

from __future__ import annotations

from searchcore.events.base import Emitter, Event, EventSink, json_safe, typed_payload
from searchcore.events.sinks import FanoutSink, JsonlSink, ListSink, LoggingSink, read_events
from searchcore.events.types import (
    EVENT_CLASSES,
    EVENT_TYPES,
    ArchSampled,
    Best,
    Child,
    ChildTrain,
    ControllerStep,
    Evaluation,
    EventData,
    FinalEpoch,
    Finished,
    Log,
    Progress,
    Status,
    event_class,
    event_data,
)

__all__ = [
    "EVENT_CLASSES", "EVENT_TYPES", "ArchSampled", "Best", "Child", "ChildTrain", "ControllerStep", "Emitter",
    "Evaluation", "Event", "EventData", "EventSink", "FanoutSink", "FinalEpoch", "Finished", "JsonlSink",
    "ListSink", "Log", "LoggingSink", "Progress", "Status", "event_class", "event_data", "json_safe",
    "read_events", "typed_payload",
]
