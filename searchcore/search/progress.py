"""Budget, cancel and progress bookkeeping of one search (used by ``searchcore.search.loop``).

``LoopProgress`` knows where the search stands inside the current epoch (``epoch_frac``), whether
it must stop (a user cancel or the budget) and emits the throttled ``progress`` events. It reads
the loop's counters through ``position``, a callable returning ``(epochs finished, architectures
evaluated)`` or ``None`` before the search's parts exist, so it never holds stale state across a
resume. While a batch is being scored, ``archs_in_flight`` (the new architectures of the batch
times the share of it scored, for an evaluator that reports it: ``scratch``'s children take
minutes) moves the fraction and the ETA of an architecture budget between controller steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from searchcore.events import Emitter
from searchcore.search.budget import Budget

PROGRESS_EVERY_S = 1.0  # a progress event at most this often while polled (and after every epoch)


class LoopProgress:
    def __init__(self, budget: Budget, emitter: Emitter, *, should_stop: Callable[[], bool],
                 position: Callable[[], tuple[int, int] | None]) -> None:
        self.budget = budget
        self.emitter = emitter
        self.user_should_stop = should_stop
        self._position = position
        self.phase = "setup"
        self.epoch_frac = 0.0  # progress inside the current epoch, 0..1
        self.archs_in_flight = 0.0  # architectures' worth of the batch being scored (fraction only)
        self.stop_reason: str | None = None  # "cancelled" | "budget"
        self._last_emit = 0.0

    def poll(self) -> bool:
        """Between minibatches/steps: cancel or budget? Also emits throttled progress."""
        if self.stop_reason is None:
            if self.user_should_stop():
                self.stop_reason = "cancelled"
            elif self.budget_used():
                self.stop_reason = "budget"
        self.emit()
        return self.stop_reason is not None

    def budget_used(self) -> bool:
        epochs, archs = self._position() or (0, 0)
        return self.budget.exhausted(epochs + self.epoch_frac, archs)

    def fraction(self) -> float:
        """Share of the budget used, 0..1 (0 before the search's parts exist)."""
        position = self._position()
        if position is None:
            return 0.0
        epochs, archs = position
        return self.budget.fraction(epochs + self.epoch_frac, archs + self.archs_in_flight)

    def set_epoch_frac(self, frac: float) -> None:
        self.epoch_frac = min(frac, 1.0)

    def emit(self, force: bool = False) -> None:
        """A ``progress`` event, unless one went out less than ``PROGRESS_EVERY_S`` ago."""
        now = time.monotonic()
        if not force and now - self._last_emit < PROGRESS_EVERY_S:
            return
        self._last_emit = now
        epochs, archs = self._position() or (0, 0)
        fraction = self.fraction()
        eta = self.budget.eta(fraction)
        self.emitter.emit("progress", phase=self.phase, fraction=round(fraction, 4),
                          eta_seconds=None if eta is None else round(eta, 1), epoch=epochs,
                          archs_evaluated=archs, elapsed_seconds=round(self.budget.elapsed(), 2))


def epoch_fraction(train_done: int, train_total: int, controller_done: float, controller_total: int) -> float:
    """Progress inside an epoch of ``train_total`` training and ``controller_total`` controller
    steps (every step counts the same, whatever order they run in)."""
    return (train_done + controller_done) / max(train_total + controller_total, 1)


__all__ = ["PROGRESS_EVERY_S", "LoopProgress", "epoch_fraction"]
