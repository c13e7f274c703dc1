"""Errors and per-file issues of dataset loading: messages are written to be shown to a user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DatasetError(ValueError):
    """The upload cannot be used as a dataset; ``str(error)`` is one clear sentence for the user."""


@dataclass(frozen=True)
class FileIssue:
    """One file (or manifest row) that was left out, and why.

    ``code`` names the kind of reason (``searchcore.data.issues.REASONS``), so that a report can
    count issues per reason; ``row`` is the manifest line for a manifest row, else None.
    """

    path: str
    reason: str
    code: str = "other"
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "code": self.code, "row": self.row}
