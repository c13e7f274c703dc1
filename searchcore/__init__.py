"""searchcore: a pure-PyTorch neural-architecture-search library (NAS-RL, NASNet, ENAS).

It never imports Django, Celery or Channels; the web app and the worker call into it.
"""

from __future__ import annotations

from searchcore.config import SearchConfig, parse_budget
from searchcore.events import Emitter, Event, EventSink, JsonlSink, ListSink
from searchcore.spaces import SearchSpace, TaskSpec, create_space, list_spaces

__version__ = "0.1.0"

__all__ = [
    "Emitter",
    "Event",
    "EventSink",
    "JsonlSink",
    "ListSink",
    "SearchConfig",
    "SearchSpace",
    "TaskSpec",
    "create_space",
    "list_spaces",
    "parse_budget",
]
