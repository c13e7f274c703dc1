"""The search: controller and evaluator taking turns under a budget, with checkpoint and resume.

``loop`` drives the phases; ``setup`` builds the parts from a config; ``progress`` and ``budget``
measure; ``state`` holds the counters; ``resume`` is the checkpoint format; ``store`` owns the files
of a search's folder (``checkpoint.pt``, ``result.json``); ``result`` is what a search returns.
"""

from __future__ import annotations

from searchcore.search.loop import SearchCancelled, SearchLoop, run_search
from searchcore.search.progress import PROGRESS_EVERY_S
from searchcore.search.result import SearchResult
from searchcore.search.setup import SearchSetupError
from searchcore.search.store import CheckpointError

__all__ = ["PROGRESS_EVERY_S", "CheckpointError", "SearchCancelled", "SearchLoop", "SearchResult",
           "SearchSetupError", "run_search"]
