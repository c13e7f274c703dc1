"""A time limit on checking one dataset, checked inside the loops that read the upload.

The web app's validation runs on a single ``datasets`` worker: an upload that takes long to read
(a million manifest rows, a zip of huge images) would hold every other user's upload behind it.
A :class:`Deadline` is passed down to every loop over entries, rows and images; once it has
passed, the next check raises :class:`ValidationTimeout` (a ``DatasetError``, so the dataset
fails with that sentence) and the worker is free for the next upload.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from searchcore.data.errors import DatasetError


class ValidationTimeout(DatasetError):
    """Checking the dataset took longer than its time limit."""


class Deadline:
    """``check(doing)`` raises :class:`ValidationTimeout` once ``seconds`` have passed (None: never)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds is not None and seconds <= 0:
            raise ValueError(f"a time limit must be positive, not {seconds}")
        self.seconds = seconds
        self._clock = clock
        self._ends = None if seconds is None else clock() + seconds

    def expired(self) -> bool:
        return self._ends is not None and self._clock() > self._ends

    def check(self, doing: str) -> None:
        if self.expired():
            raise ValidationTimeout(timeout_message(self.seconds or 0, doing))


def timeout_message(seconds: float, doing: str) -> str:
    return (
        f"checking the dataset took longer than the limit of {seconds:g} s (stopped while {doing}); "
        "upload fewer or smaller files, or ask the administrator for a longer limit"
    )


NO_DEADLINE = Deadline(None)
