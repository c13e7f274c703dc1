"""How a search ends: its result, the closing event and ``result.json`` (for ``search.loop``).

A success or a cancel emits ``finished`` (or, when the caller goes on with the same stream, a
``status search_ended``) and writes ``result.json`` with ``last_seq`` counting that event. A
failure is recorded the same way, and a failure to record it never hides the original error.
"""

from __future__ import annotations

import logging
from typing import Any

from searchcore.search.result import SearchResult
from searchcore.search.setup import SearchSetupError
from searchcore.search.store import RESULT_NAME, write_result

logger = logging.getLogger(__name__)


def search_result(loop: Any, status: str, message: str) -> SearchResult:
    """The result of ``loop`` (a ``SearchLoop``) as it stands."""
    return SearchResult(space=loop.config.space, best_arch=loop.state.best_arch,
                        best_reward=loop.state.best_reward, status=status, epochs=loop.state.epoch,
                        archs_evaluated=loop.archs_used() if loop.parts is not None else 0,
                        elapsed_seconds=loop.budget.elapsed(), last_seq=loop.emitter.last_seq,
                        message=message, config=loop.config.to_dict())


def finish(loop: Any, status: str, message: str) -> SearchResult:
    best = search_result(loop, status, message).to_dict()["best"]
    if loop.emit_finished:
        loop.emitter.emit("finished", status=status, message=message, best=best)
    else:
        loop.emitter.emit("status", status="search_ended", message=message, search_status=status, best=best)
    result = search_result(loop, status, message)  # last_seq now includes the closing event
    write_result(loop.out_dir / RESULT_NAME, result.to_dict())
    logger.info("search %s: %s (best %s)", status, loop.out_dir, result.best_reward)
    return result


def fail(loop: Any, exc: Exception) -> None:
    message = str(exc) if isinstance(exc, SearchSetupError) else f"{type(exc).__name__}: {exc}"
    try:
        if loop.emit_finished:
            loop.emitter.emit("finished", status="failed", message=message, best=None)
        else:
            loop.emitter.emit("log", level="error", message=message)
        write_result(loop.out_dir / RESULT_NAME, search_result(loop, "failed", message).to_dict())
    except Exception:  # never hide the original error behind a reporting error
        logger.exception("could not record the failure of %s", loop.out_dir)
