"""Count host synchronisations of the CUDA stream: the check that an inner loop has none.

``torch.cuda.set_sync_debug_mode("warn")`` makes every synchronising call (``.item()``,
``float(t)``, a blocking host-to-device copy, ``nonzero``...) warn; the warnings are counted.
On CPU there is no stream to wait for: the count is ``None``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch


class SyncCount:
    def __init__(self) -> None:
        self.count: int | None = None
        self.messages: list[str] = []


@contextlib.contextmanager
def count_host_syncs(device: torch.device) -> Iterator[SyncCount]:
    """``with count_host_syncs(device) as syncs: ...``; afterwards ``syncs.count`` is the number of
    synchronising calls on CUDA, ``None`` on CPU."""
    result = SyncCount()
    if device.type != "cuda":
        yield result
        return
    previous = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            yield result
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    hits = [str(w.message) for w in caught if "synchroniz" in str(w.message).lower()]
    result.count, result.messages = len(hits), hits[:5]
