"""searchcore: a pure-PyTorch neural-architecture-search library (NAS-RL, NASNet, ENAS).

It never imports Django, Celery or Channels; the web app, the worker and the CLI call into it
through the names below (the facade). Packages: ``spaces``, ``controllers``, ``evaluators``
(registries + ``create_*`` factories), ``data``, ``search`` (the loop), ``training`` (final
training), ``export`` (the download package), ``cli``.
"""

from __future__ import annotations

from searchcore.config import SearchConfig, parse_budget
from searchcore.controllers import create_controller, list_controllers
from searchcore.evaluators import create_evaluator, list_evaluators
from searchcore.events import Emitter, Event, EventSink, JsonlSink, ListSink
from searchcore.export import export_package
from searchcore.search import CheckpointError, SearchResult, SearchSetupError, run_search
from searchcore.spaces import SearchSpace, TaskSpec, create_space, list_spaces
from searchcore.training import FinalConfig, FinalResult, train_final

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "Emitter",
    "Event",
    "EventSink",
    "FinalConfig",
    "FinalResult",
    "JsonlSink",
    "ListSink",
    "SearchConfig",
    "SearchResult",
    "SearchSetupError",
    "SearchSpace",
    "TaskSpec",
    "create_controller",
    "create_evaluator",
    "create_space",
    "export_package",
    "list_controllers",
    "list_evaluators",
    "list_spaces",
    "parse_budget",
    "run_search",
    "train_final",
]
