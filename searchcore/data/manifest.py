"""CSV manifests: rows ``path,label[,split]`` (header optional).

``split`` follows Cloud AutoML's ``ML_USE`` values (TRAIN / VALIDATION / TEST, UNASSIGNED or empty
for "assign automatically"), case-insensitive and with the usual short spellings. AutoML's own
column order (``ML_USE,path,label``) is recognised too. Paths are relative to the zip root; a URI
(``gs://bucket/a/b.jpg``) or an absolute path is matched by its longest suffix present in the zip
(``searchcore.data.paths``, linear in the cell's length).

Bounded whatever the upload (``ArchiveLimits``): at most ``max_manifest_rows`` rows and
``max_path_chars`` per path or label cell; each bad row is an issue with its line number and a
reason code, counted per reason in the report. An unbalanced quote, which would swallow the rows
after it into one cell, fails the dataset with the line where the quote opens.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile

from searchcore.data.archive import ArchiveLimits, ArchiveListing, ImageEntry, is_image_name
from searchcore.data.deadline import NO_DEADLINE, Deadline
from searchcore.data.errors import DatasetError, FileIssue
from searchcore.data.issues import IssueLog
from searchcore.data.paths import PathIndex

logger = logging.getLogger(__name__)

SPLIT_ALIASES = {
    "train": "train", "training": "train", "trn": "train",
    "validation": "valid", "valid": "valid", "val": "valid", "validate": "valid", "dev": "valid",
    "test": "test", "testing": "test", "tst": "test",
    "unassigned": None, "": None,
}  # fmt: skip
_PATH_HEADERS = {
    "path",
    "file",
    "filename",
    "file_name",
    "filepath",
    "image",
    "image_path",
    "uri",
    "gcs_file_path",
}
_LABEL_HEADERS = {"label", "labels", "class", "class_name", "category", "target"}
_SPLIT_HEADERS = {"split", "ml_use", "set", "subset", "fold"}
_MAX_MANIFEST_BYTES = 64 * 1024**2
_CHECK_EVERY = 512  # rows between two looks at the clock

Row = tuple[int, list[str]]  # (line number, cells)


class _Unknown:
    """Sentinel for an unrecognised split value."""


def parse_split(value: str) -> str | None | type[_Unknown]:
    return SPLIT_ALIASES.get(value.strip().lower(), _Unknown)


def read_manifest(
    zf: zipfile.ZipFile,
    relative: dict[str, str],
    csv_path: str,
    limits: ArchiveLimits = ArchiveLimits(),
    deadline: Deadline = NO_DEADLINE,
) -> ArchiveListing:
    """Entries listed by the manifest ``csv_path``; ``relative`` maps zip paths to member names."""
    rows = read_rows(zf.read(relative[csv_path]), csv_path, limits.max_manifest_rows, deadline)
    if not rows:
        raise DatasetError(f"the manifest {csv_path} has no rows")
    split_first = _split_column_first(rows)
    index = PathIndex(relative)
    first_path = _columns(rows[0][1], split_first)[0]
    if _is_header(rows[0][1], split_first) and (
        len(first_path) > limits.max_path_chars or index.resolve(first_path) is None
    ):
        rows = rows[1:]
    listing = ArchiveListing(entries=[], layout="manifest", skipped=IssueLog(limits.report_examples))
    seen: set[str] = set()
    for count, (line, cells) in enumerate(rows):
        if not count % _CHECK_EVERY:
            deadline.check(f"checking line {line:,} of {csv_path}")
        entry = _row_entry(index, seen, (csv_path, line), cells, split_first, limits)
        if isinstance(entry, FileIssue):
            listing.skipped.add(entry)
        else:
            listing.entries.append(entry)
    unlisted = sum(1 for p in relative if is_image_name(p) and p not in seen)
    if unlisted:
        listing.warnings.append(
            f"{unlisted:,} image(s) in the zip are not listed in {csv_path} and were ignored"
        )
    if not listing.entries:
        found = f": {listing.skipped.summary()}" if listing.skipped.total else ""
        raise DatasetError(
            f"no row of {csv_path} points to a usable image in the zip{found} "
            "(a CSV at the top of the zip is read as the manifest: rows path,label[,split])"
        )
    return listing


def read_rows(data: bytes, csv_path: str, max_rows: int, deadline: Deadline = NO_DEADLINE) -> list[Row]:
    """Non-empty rows with their line numbers; a clear ``DatasetError`` for anything that is not CSV."""
    if len(data) > _MAX_MANIFEST_BYTES:
        raise DatasetError(f"the manifest {csv_path} is larger than {_MAX_MANIFEST_BYTES // 1024**2} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"the manifest {csv_path} is not UTF-8 text") from exc
    if "\x00" in text:
        raise DatasetError(f"the manifest {csv_path} is not a text file")
    _check_row_count(text, csv_path, max_rows)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect, strict=True, doublequote=True)  # RFC 4180 quotes
    rows: list[Row] = []
    while True:
        line = reader.line_num + 1
        if not line % _CHECK_EVERY:
            deadline.check(f"reading line {line:,} of {csv_path}")
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            raise DatasetError(_csv_problem(csv_path, line, str(exc))) from exc
        if reader.line_num != line:  # a quoted cell ran over several lines
            raise DatasetError(_quote_problem(csv_path, line, reader.line_num))
        stripped = [c.strip() for c in cells]
        while stripped and stripped[-1] == "" and len(stripped) > 3:
            stripped.pop()
        if any(stripped):
            rows.append((line, stripped))


def _check_row_count(text: str, csv_path: str, max_rows: int) -> None:
    """Refuse a manifest of too many rows before parsing it: a row takes at least one line (a cell
    spanning lines is refused anyway), so counting non-blank lines (C speed) bounds the rows."""
    if text.count("\n") < max_rows:
        return
    lines = sum(1 for line in text.splitlines() if line.strip())
    if lines > max_rows:
        raise DatasetError(
            f"the manifest {csv_path} has {lines:,} rows, more than the limit of {max_rows:,}; "
            "upload a smaller dataset"
        )


def _csv_problem(csv_path: str, line: int, error: str) -> str:
    if "end of data" in error or "EOF" in error:
        return _quote_problem(csv_path, line, None)
    if "field limit" in error:
        error = "a cell is longer than 131,072 characters"
    return f"the manifest {csv_path} is not valid CSV at line {line:,} ({error})"


def _quote_problem(csv_path: str, line: int, end: int | None) -> str:
    reach = f"runs on to line {end:,}" if end is not None else "is never closed"
    return (
        f"the manifest {csv_path} has an unbalanced quote: the quoted cell that opens on line {line:,} "
        f"{reach}, so the rows after it would be read as one cell; close the quote (\") or remove it"
    )


def _split_column_first(rows: list[Row]) -> bool:
    """True for AutoML's ``ML_USE,path,label`` order: the first cell of most rows is a split value."""
    sample = [cells for _, cells in rows[:50] if len(cells) >= 3]
    if not sample:
        return False
    first = sum(1 for c in sample if parse_split(c[0]) is not _Unknown and c[0])
    last = sum(1 for c in sample if parse_split(c[2]) is not _Unknown)
    return first > len(sample) / 2 and first > last


def _is_header(cells: list[str], split_first: bool) -> bool:
    path, label, split = _columns(cells, split_first)
    return (
        path.lower() in _PATH_HEADERS
        or label.lower() in _LABEL_HEADERS
        or (split is not None and split.lower() in _SPLIT_HEADERS)
    )


def _columns(cells: list[str], split_first: bool) -> tuple[str, str, str | None]:
    if split_first and len(cells) >= 3:
        return cells[1], cells[2], cells[0]
    padded = cells + ["", ""]
    return padded[0], padded[1], cells[2] if len(cells) >= 3 else None


def _issue(csv_path: str, line: int, path: str, reason: str, code: str) -> FileIssue:
    shown = path if len(path) <= 200 else path[:200] + "..."
    return FileIssue(shown or f"{csv_path} line {line}", f"{reason} ({csv_path} line {line})", code, line)


def _row_entry(
    index: PathIndex, seen: set[str], where: tuple[str, int], cells: list[str], split_first: bool,
    limits: ArchiveLimits,
) -> ImageEntry | FileIssue:
    """The image a row names, or the issue that leaves it out (``where``: manifest, line)."""
    csv_path, line = where
    if len(cells) < 2 or len(cells) > 3:
        found = f"expected path,label[,split] but found {len(cells)} column(s)"
        return FileIssue(f"{csv_path} line {line}", found, "columns", line)
    path, label, split_text = _columns(cells, split_first)
    if not label:
        return _issue(csv_path, line, path, "no label", "no_label")
    longest = max(len(path), len(label))
    if longest > limits.max_path_chars:
        reason = f"a cell is {longest:,} characters, over the limit of {limits.max_path_chars:,}"
        return _issue(csv_path, line, path, reason, "too_long")
    split = parse_split(split_text or "")
    if split is _Unknown:
        reason = f"unknown split value {(split_text or '')[:40]!r}; use TRAIN, VALIDATION or TEST"
        return _issue(csv_path, line, path, reason, "unknown_split")
    found = index.resolve(path)
    if found is None:
        reason = f"listed in {csv_path} line {line} but not found in the zip"
        return FileIssue(path[:200], reason, "not_in_zip", line)
    if found in seen:
        reason = "listed twice in the manifest; the repeat is ignored"
        return _issue(csv_path, line, path, reason, "duplicate_row")
    if not is_image_name(found):
        return _issue(csv_path, line, path, "not an image file", "not_image")
    seen.add(found)
    return ImageEntry(member=index.relative[found], label=label, split=split)  # type: ignore[arg-type]
