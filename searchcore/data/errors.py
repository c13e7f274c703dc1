"""Errors and per-file issues of dataset loading: messages are written to be shown to a user."""

from __future__ import annotations

from dataclasses import dataclass


class DatasetError(ValueError):
    """The upload cannot be used as a dataset; ``str(error)`` is one clear sentence for the user."""


@dataclass(frozen=True)
class FileIssue:
    """One file (or manifest row) that was left out, and why."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}
