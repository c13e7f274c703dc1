"""A tqdm progress bar on stderr fed by search / training events (private helper of the CLI)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from searchcore.events import Event

_SCALE = 1000  # the bar counts thousandths of the budget


class ProgressSink:
    """Event sink: ``progress`` moves the bar (with the loop's ETA), ``best`` and ``final_epoch``
    update the postfix, ``status`` the description. Use as a context manager so the bar closes."""

    def __init__(self, label: str) -> None:
        self.bar = tqdm(total=_SCALE, desc=label, file=sys.stderr, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}{postfix}]")
        self.best: float | None = None
        self.eta: float | None = None

    def emit(self, event: Event) -> None:
        p = event.payload
        if event.type == "progress":
            self.eta = p.get("eta_seconds")
            self._move(float(p.get("fraction") or 0.0))
        elif event.type == "best":
            self.best = p.get("reward")
        elif event.type == "final_epoch" and p.get("epochs"):
            self._move(float(p["epoch"]) / float(p["epochs"]))
            self.best = p.get("valid_accuracy", self.best)
        elif event.type == "status":
            self.bar.set_description_str(str(p.get("status", "")), refresh=False)
        elif event.type == "finished" and p.get("status") == "succeeded":
            self._move(1.0)
        else:
            return
        self.bar.set_postfix_str(self._postfix(), refresh=False)
        if event.type != "best":  # progress arrives every few seconds; best may come in bursts
            self.bar.refresh()

    def _move(self, fraction: float) -> None:
        self.bar.n = max(0, min(_SCALE, round(fraction * _SCALE)))

    def _postfix(self) -> str:
        parts = []
        if self.eta is not None:
            parts.append(f"eta {_clock(self.eta)}")
        if self.best is not None:
            parts.append(f"best {self.best:.4g}")
        return ", ".join(parts)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> ProgressSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
