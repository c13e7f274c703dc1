"""When a search epoch's controller steps run, and how much of a time budget derive keeps.

Interleaving (``SearchConfig.controller_schedule == "interleaved"``): the epoch's
``controller_steps_per_epoch`` steps are spread evenly over its training steps, so on a CPU,
where one epoch of a supernet can take minutes, the controller gets its first reward after a
few training steps instead of after the whole epoch (ENAS alternates per epoch because its
epochs take seconds on a GPU). ``per_epoch`` keeps the paper's order.

Derive reserve: derive scores its candidates on the whole validation split once the search phase
ends. Its cost is measured while searching (every controller step times its reward minibatches)
and kept out of the search phase's share of a time budget, so the whole search, derive included,
ends within ``budget_seconds``. The reserve is at most ``MAX_DERIVE_SHARE`` of the budget; when
less time is left at derive, fewer sampled candidates are scored (the greedy and the best seen
always are).
"""

from __future__ import annotations

import math
from typing import Any

MAX_DERIVE_SHARE = 0.2  # of a time budget kept for derive at most
ALWAYS_SCORED = 2  # the controller's greedy choice and the best architecture seen


def controller_steps_due(train_done: int, train_total: int, per_epoch: int) -> int:
    """Controller steps that should have run once ``train_done`` of ``train_total`` training steps
    of the epoch are done: evenly spread, all of them after the last training step."""
    if train_total <= 0:
        return per_epoch
    return (min(train_done, train_total) * per_epoch) // train_total


class ScoreTimer:
    """Running mean of the seconds one reward minibatch costs (measured on controller steps)."""

    def __init__(self) -> None:
        self.seconds_per_batch: float | None = None
        self._count = 0

    def add(self, seconds: float, batches: int) -> None:
        if batches <= 0:
            return
        value = seconds / batches
        self._count += 1
        if self.seconds_per_batch is None:
            self.seconds_per_batch = value
        else:  # mean of the first steps, then a slow moving average (load changes)
            weight = max(1.0 / self._count, 0.05)
            self.seconds_per_batch += weight * (value - self.seconds_per_batch)

    def derive_seconds(self, samples: int, batches_per_candidate: int) -> float:
        """Expected time of derive with ``samples`` sampled candidates; 0 before any measurement."""
        if self.seconds_per_batch is None:
            return 0.0
        return (samples + ALWAYS_SCORED) * batches_per_candidate * self.seconds_per_batch

    def reserve(self, samples: int, batches_per_candidate: int, budget_seconds: float | None) -> float:
        """Seconds of a time budget to keep for derive (0 without a time budget)."""
        if not budget_seconds:
            return 0.0
        return min(self.derive_seconds(samples, batches_per_candidate), MAX_DERIVE_SHARE * budget_seconds)

    def affordable_samples(self, seconds_left: float | None, samples: int, batches_per_candidate: int) -> int:
        """Sampled candidates derive can score in ``seconds_left`` (None: no time budget): at most
        ``samples``, at least 1 unless ``samples`` is 0 (besides the greedy and best-seen candidates,
        always scored). With a time budget but nothing measured (no controller step ran before the
        budget ended), the cost of a candidate is unknown: 1, not ``samples`` (scoring 18 candidates
        of a language supernet on its validation stream once took 8 minutes of a 3-minute budget)."""
        if seconds_left is None:
            return samples
        if self.seconds_per_batch is None:
            return min(samples, 1)
        per_candidate = batches_per_candidate * self.seconds_per_batch
        affordable = math.floor(max(seconds_left, 0.0) / max(per_candidate, 1e-9)) - ALWAYS_SCORED
        return max(min(samples, 1), min(samples, affordable))


class DeriveReserve:
    """Derive's share of a time budget, kept up to date from the controller steps' timings."""

    def __init__(self, budget: Any, derive_samples: int) -> None:
        self.budget = budget  # a ``search.budget.Budget``: its ``reserve_seconds`` is set here
        self.derive_samples = derive_samples
        self.timer = ScoreTimer()

    def measured(self, seconds: float, archs: int, batches_per_candidate: int) -> None:
        """A controller step scored ``archs`` architectures in ``seconds``."""
        self.timer.add(seconds, archs)
        self.budget.reserve_seconds = self.timer.reserve(self.derive_samples, batches_per_candidate,
                                                         self.budget.seconds)

    def samples(self, batches_per_candidate: int) -> int:
        """``derive_samples``, or fewer when the time budget has less left than they would take."""
        return self.timer.affordable_samples(self.budget.seconds_left(), self.derive_samples,
                                             batches_per_candidate)
