"""CSV manifests: rows ``path,label[,split]`` (header optional).

``split`` follows Cloud AutoML's ``ML_USE`` values (TRAIN / VALIDATION / TEST, UNASSIGNED or empty
for "assign automatically"), case-insensitive and with the usual short spellings. AutoML's own
column order (``ML_USE,path,label``) is recognised too. Paths are relative to the zip root; a URI
(``gs://bucket/a/b.jpg``) or an absolute path is matched by its longest suffix present in the zip.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile

from searchcore.data.archive import ArchiveListing, ImageEntry, is_image_name
from searchcore.data.errors import DatasetError, FileIssue

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


class _Unknown:
    """Sentinel for an unrecognised split value."""


def parse_split(value: str) -> str | None | type[_Unknown]:
    return SPLIT_ALIASES.get(value.strip().lower(), _Unknown)


def read_manifest(zf: zipfile.ZipFile, relative: dict[str, str], csv_path: str) -> ArchiveListing:
    """Entries listed by the manifest ``csv_path``; ``relative`` maps zip paths to member names."""
    rows = _read_rows(zf.read(relative[csv_path]), csv_path)
    if not rows:
        raise DatasetError(f"the manifest {csv_path} has no rows")
    split_first = _split_column_first(rows)
    resolver = _Resolver(relative)
    first_path = _columns(rows[0][1], split_first)[0]
    if resolver.resolve(first_path) is None and _is_header(rows[0][1], split_first):
        rows = rows[1:]
    listing = ArchiveListing(entries=[], layout="manifest")
    seen: set[str] = set()
    for line, cells in rows:
        _add_row(listing, resolver, seen, f"{csv_path} line {line}", cells, split_first)
    unlisted = sum(1 for p in relative if is_image_name(p) and p not in seen)
    if unlisted:
        listing.warnings.append(
            f"{unlisted} image(s) in the zip are not listed in {csv_path} and were ignored"
        )
    if not listing.entries:
        raise DatasetError(
            f"no row of {csv_path} points to a usable image in the zip "
            "(a CSV at the top of the zip is read as the manifest: rows path,label[,split])"
        )
    return listing


def _read_rows(data: bytes, csv_path: str) -> list[tuple[int, list[str]]]:
    if len(data) > _MAX_MANIFEST_BYTES:
        raise DatasetError(f"the manifest {csv_path} is larger than {_MAX_MANIFEST_BYTES // 1024**2} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"the manifest {csv_path} is not UTF-8 text") from exc
    if "\x00" in text:
        raise DatasetError(f"the manifest {csv_path} is not a text file")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            while stripped and stripped[-1] == "" and len(stripped) > 3:
                stripped.pop()
            if any(stripped):
                rows.append((reader.line_num, stripped))
    except csv.Error as exc:
        raise DatasetError(f"the manifest {csv_path} is not valid CSV ({exc})") from exc
    return rows


def _split_column_first(rows: list[tuple[int, list[str]]]) -> bool:
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


def _add_row(
    listing: ArchiveListing,
    resolver: _Resolver,
    seen: set[str],
    where: str,
    cells: list[str],
    split_first: bool,
) -> None:
    path, label, split_text = _columns(cells, split_first)
    if len(cells) < 2 or len(cells) > 3:
        listing.skipped.append(
            FileIssue(where, f"expected path,label[,split] but found {len(cells)} column(s)")
        )
        return
    if not label:
        listing.skipped.append(FileIssue(path or where, f"no label ({where})"))
        return
    split = parse_split(split_text or "")
    if split is _Unknown:
        listing.skipped.append(
            FileIssue(path, f"unknown split value {split_text!r} ({where}); use TRAIN, VALIDATION or TEST")
        )
        return
    found = resolver.resolve(path)
    if found is None:
        listing.skipped.append(FileIssue(path, f"listed in {where} but not found in the zip"))
    elif found in seen:
        listing.skipped.append(
            FileIssue(path, f"listed twice in the manifest ({where}); the repeat is ignored")
        )
    elif not is_image_name(found):
        listing.skipped.append(FileIssue(path, f"not an image file ({where})"))
    else:
        seen.add(found)
        listing.entries.append(ImageEntry(member=resolver.relative[found], label=label, split=split))  # type: ignore[arg-type]


class _Resolver:
    """Finds the zip path a manifest cell refers to: exact, else the longest matching suffix."""

    def __init__(self, relative: dict[str, str]) -> None:
        self.relative = relative

    def resolve(self, raw: str) -> str | None:
        text = raw.replace("\\", "/")
        if "://" in text:  # gs://bucket/dir/x.jpg -> dir/x.jpg
            text = text.split("://", 1)[1].partition("/")[2]
        parts = [p for p in text.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            return None
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            if candidate in self.relative:
                return candidate
        return None
