"""Skipped files and manifest rows, counted per reason with only the first few kept as examples.

A hostile or careless upload can produce a million issues (a manifest of 10^6 rows naming files
that are not in the zip, a zip of 200,000 text files). Keeping every one made a 100 MB health
report and a page of the same size, so an :class:`IssueLog` keeps a count per reason code and the
first ``examples`` issues of each reason: the report stays small whatever the upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from searchcore.data.errors import FileIssue

DEFAULT_EXAMPLES = 20

# code -> how the report names a group of such issues ("3 rows ..." / "3 files ...")
REASONS = {
    "columns": "manifest rows without the columns path,label[,split]",
    "no_label": "manifest rows without a label",
    "unknown_split": "manifest rows with an unknown split value",
    "not_in_zip": "manifest rows naming a path that is not in the zip",
    "duplicate_row": "manifest rows repeating a path",
    "too_long": "paths or labels longer than the limit",
    "not_image": "files that are not images",
    "outside_class_folder": "files outside a class folder",
    "unsafe_path": "entries with an unsafe path",
    "duplicate_entry": "zip entries with a repeated name",
    "too_large": "files over the size limit",
    "unreadable": "images that cannot be read",
    "small_class": "images of classes with a single readable image",
    "other": "other files left out",
}


@dataclass
class IssueLog:
    """Counts per reason code, plus the first ``examples`` issues of each code, in arrival order."""

    examples: int = DEFAULT_EXAMPLES
    counts: dict[str, int] = field(default_factory=dict)
    kept: list[FileIssue] = field(default_factory=list)

    def add(self, issue: FileIssue) -> None:
        seen = self.counts.get(issue.code, 0)
        self.counts[issue.code] = seen + 1
        if seen < self.examples:
            self.kept.append(issue)

    def extend(self, issues: Iterable[FileIssue] | IssueLog) -> None:
        if isinstance(issues, IssueLog):
            self.merge(issues)
            return
        for issue in issues:
            self.add(issue)

    def merge(self, other: IssueLog) -> None:
        """Add ``other``'s counts and as many of its examples as fit."""
        for code, n in other.counts.items():
            room = self.examples - self.counts.get(code, 0)
            self.kept.extend([i for i in other.kept if i.code == code][: max(room, 0)])
            self.counts[code] = self.counts.get(code, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[FileIssue]:
        return iter(self.kept)

    def summary(self, per_reason: int = 3) -> str:
        """One line for an error message: each reason's count and its first issues with their rows."""
        parts = []
        for code, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            shown = [_where(i) for i in self.kept if i.code == code][:per_reason]
            more = ", ..." if n > len(shown) else ""
            first = next(i.reason for i in self.kept if i.code == code)
            parts.append(f"{n:,} {REASONS.get(code, code)} ({', '.join(shown)}{more}; the first: {first})")
        return "; ".join(parts)


def _where(issue: FileIssue) -> str:
    path = issue.path if len(issue.path) <= 60 else issue.path[:57] + "..."
    return f"line {issue.row}: {path!r}" if issue.row is not None else repr(path)
