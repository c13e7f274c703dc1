"""Budget tracking and ETA for the search loop.

A search may be bounded by wall-clock seconds, by a number of architectures, by a number of
epochs, or by any mix; the budget is used up when the first of them is. The fraction used is the
largest of the three fractions, and the ETA extrapolates from the time spent so far:
``elapsed * (1 - f) / f``, which for a time-only budget is exactly ``seconds - elapsed``.

Elapsed time accumulates across resumed runs: ``elapsed_before`` comes from the checkpoint.

``ceiling_seconds`` is a hard wall-clock ceiling whatever the budget (the web service's 12-hour cap
holds a search bounded only by counts, e.g. ``max_archs`` of children trained from scratch); it
counts like a time budget but reserves nothing and plans nothing.

``reserve_seconds`` of a time budget are kept for what follows the search phase (derive, see
``searchcore.search.schedule``): the search phase is used up at ``seconds - reserve_seconds`` and
its fraction counts against that; the ETA still runs to ``seconds``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Budget:
    seconds: float | None = None
    max_archs: int | None = None
    max_epochs: int | None = None
    elapsed_before: float = 0.0
    reserve_seconds: float = 0.0
    ceiling_seconds: float | None = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def restart_clock(self, elapsed_before: float) -> None:
        """Continue counting from ``elapsed_before`` seconds (a resumed search)."""
        self.elapsed_before = float(elapsed_before)
        self._started = time.monotonic()

    def elapsed(self) -> float:
        return self.elapsed_before + (time.monotonic() - self._started)

    def fraction(self, epochs: float, archs: float) -> float:
        """Fraction of the budget used, 0..1; ``epochs`` and ``archs`` may be fractional (inside an
        epoch; an architecture being scored)."""
        parts = [0.0]
        if self.seconds:
            parts.append(self.elapsed() / self.search_seconds())
        if self.max_archs:
            parts.append(archs / self.max_archs)
        if self.max_epochs:
            parts.append(epochs / self.max_epochs)
        if self.ceiling_seconds:
            parts.append(self.elapsed() / self.ceiling_seconds)
        return min(1.0, max(parts))

    def exhausted(self, epochs: float, archs: int) -> bool:
        if self.seconds is not None and self.elapsed() >= self.search_seconds():
            return True
        if self.ceiling_seconds is not None and self.elapsed() >= self.ceiling_seconds:
            return True
        if self.max_archs is not None and archs >= self.max_archs:
            return True
        return self.max_epochs is not None and epochs >= self.max_epochs

    def search_seconds(self) -> float:
        """The search phase's share of a time budget (what is not reserved)."""
        assert self.seconds is not None
        return max(self.seconds - self.reserve_seconds, 0.0)

    def seconds_left(self) -> float | None:
        """Seconds left of a time budget, reserve included (``None`` without one)."""
        return None if self.seconds is None else self.seconds - self.elapsed()

    def eta(self, fraction: float) -> float | None:
        """Seconds left, extrapolated, the reserve included; ``None`` before anything measurable happened."""
        reserve = self.reserve_seconds if self.seconds else 0.0
        if fraction >= 1.0:
            return reserve
        if fraction <= 0.0:
            return None
        return self.elapsed() * (1.0 - fraction) / fraction + reserve
