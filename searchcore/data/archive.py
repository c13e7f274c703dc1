"""Reading an uploaded zip safely and listing its labelled images.

Two layouts are accepted (see ``docs/architecture.md``, "Data"):

- class folders: ``cat/1.png``, ``dog/x.jpg`` (subfolders inside a class folder belong to it,
  as in torchvision's ``ImageFolder``), optionally under one wrapping folder (``myset/cat/1.png``);
- a CSV manifest at the root (``path,label[,split]``), parsed by :mod:`searchcore.data.manifest`.

Nothing is ever extracted to disk, so a hostile entry name cannot write anywhere; names that are
absolute or climb with ``..`` (zip-slip) are still refused, so that a manifest cannot refer to
them. Zip bombs are capped by the sizes the archive declares: ``zipfile`` never inflates an
entry beyond its declared size, so the sum of declared sizes bounds what we read.
"""

from __future__ import annotations

import logging
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from searchcore.data.deadline import NO_DEADLINE, Deadline
from searchcore.data.errors import DatasetError, FileIssue
from searchcore.data.issues import DEFAULT_EXAMPLES, IssueLog

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
)
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
# what reading one member can raise: corrupt data, bad CRC, encryption, unsupported compression
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
)


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps against hostile or accidental huge uploads (all checked before decoding)."""

    max_total_bytes: int = 4 * 1024**3  # sum of declared uncompressed sizes
    max_file_bytes: int = 64 * 1024**2  # one entry
    max_entries: int = 1_000_000  # checked from the zip's end record, before its directory is parsed
    max_path_chars: int = 1024  # one entry name, or one manifest path/label cell
    max_manifest_rows: int = 1_000_000
    max_classes: int = 10_000
    report_examples: int = DEFAULT_EXAMPLES  # skipped files kept per reason in the report (the rest counted)
    max_image_pixels: int = 50_000_000  # width * height of one image (Pillow warns at 89M)
    max_decoded_bytes: int = 8 * 1024**3  # all images at the chosen side, as uint8 tensors


@dataclass(frozen=True)
class ImageEntry:
    member: str  # the name inside the zip, for reading
    label: str
    split: str | None = None  # "train" | "valid" | "test", or None: assign automatically


@dataclass
class ArchiveListing:
    entries: list[ImageEntry]
    layout: str  # "folders" | "manifest"
    skipped: IssueLog = field(default_factory=IssueLog)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def open_zip(path: str | Path, limits: ArchiveLimits = ArchiveLimits()) -> Iterator[zipfile.ZipFile]:
    """Open ``path`` as a zip, or raise :class:`DatasetError` saying why it cannot be one."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"the file {path.name!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise DatasetError(
            f"{path.name!r} is not a zip archive; upload a .zip of class folders or a CSV manifest"
        )
    _check_entry_count(declared_entries(path), limits)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DatasetError(f"{path.name!r} is not a readable zip archive ({exc})") from exc
    with zf:
        check_limits(zf, limits)
        yield zf


def declared_entries(path: Path) -> int | None:
    """The entry count the zip's end record declares, read without parsing its directory (which
    takes ~30 us and ~1 KB of memory per entry); None when the record cannot be read."""
    try:
        with path.open("rb") as f:
            record = zipfile._EndRecData(f)  # type: ignore[attr-defined]  # stable since Python 2
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    return int(record[zipfile._ECD_ENTRIES_TOTAL]) if record else None  # type: ignore[attr-defined]


def _check_entry_count(count: int | None, limits: ArchiveLimits) -> None:
    if count is not None and count > limits.max_entries:
        raise DatasetError(
            f"the zip has {count:,} entries, more than the limit of {limits.max_entries:,}; "
            "upload fewer files"
        )


def check_limits(zf: zipfile.ZipFile, limits: ArchiveLimits) -> None:
    infos = zf.infolist()
    if not infos:
        raise DatasetError("the zip archive is empty")
    _check_entry_count(len(infos), limits)
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        raise DatasetError(
            f"the zip would expand to {human_size(total)}, "
            f"more than the limit of {human_size(limits.max_total_bytes)}"
        )


def safe_name(name: str) -> str | None:
    """Normalised ``a/b/c`` form of an entry name, or None if it is absolute or climbs with ``..``."""
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE_RE.match(name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def is_ignored(path: str) -> bool:
    """OS litter (``__MACOSX/``, hidden files, ``Thumbs.db``) that is skipped without a word."""
    parts = path.split("/")
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return True
    return parts[-1].lower() in _IGNORED_NAMES


def is_image_name(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def list_files(
    zf: zipfile.ZipFile, limits: ArchiveLimits, deadline: Deadline = NO_DEADLINE
) -> tuple[dict[str, str], IssueLog]:
    """Map of normalised path -> zip member name for the usable files, plus the refused ones."""
    files: dict[str, str] = {}
    skipped = IssueLog(limits.report_examples)
    for info in zf.infolist():
        deadline.check("listing the zip's entries")
        if info.is_dir():
            continue
        issue = _entry_issue(info, files, limits)
        if issue is not None:
            skipped.add(issue)
            continue
        path = safe_name(info.filename)
        if path and not is_ignored(path):
            files[path] = info.filename
    return files, skipped


def _entry_issue(info: zipfile.ZipInfo, files: dict[str, str], limits: ArchiveLimits) -> FileIssue | None:
    """Why the entry cannot be used, or None (ignored OS litter is not an issue)."""
    name = info.filename
    if len(name) > limits.max_path_chars:
        shown = name[:80] + "..."
        return FileIssue(shown, f"the name is {len(name):,} characters, over the limit of "
                                f"{limits.max_path_chars:,}", "too_long")
    path = safe_name(name)
    if path is None:
        return FileIssue(name, "unsafe path (absolute or with '..'); refused", "unsafe_path")
    if path in files:
        return FileIssue(path, "the zip holds two entries with this name; the second is ignored",
                         "duplicate_entry")
    if path and not is_ignored(path) and info.file_size > limits.max_file_bytes:
        return FileIssue(path, f"file is {human_size(info.file_size)}, "
                               f"over the {human_size(limits.max_file_bytes)} limit", "too_large")
    return None


def strip_wrapper(paths: list[str]) -> str:
    """The wrapping folder prefix (``"myset/"``) shared by all paths, or ``""``.

    A prefix is stripped only while some file stays inside a subfolder of it, so a zip holding a
    single class folder (``cat/1.png``) keeps ``cat`` as its class.
    """
    prefix = ""
    current = paths
    while current and all("/" in p for p in current):
        heads = {p.split("/", 1)[0] for p in current}
        if len(heads) != 1:
            break
        rest = [p.split("/", 1)[1] for p in current]
        if not any("/" in p for p in rest):
            break
        prefix += heads.pop() + "/"
        current = rest
    return prefix


def list_image_entries(
    zf: zipfile.ZipFile, limits: ArchiveLimits = ArchiveLimits(), deadline: Deadline = NO_DEADLINE
) -> ArchiveListing:
    """Find the layout of the zip and list its labelled images (not yet decoded)."""
    files, skipped = list_files(zf, limits, deadline)
    if not files:
        raise DatasetError("the zip holds no usable files (only folders, hidden or system files)")
    prefix = strip_wrapper(list(files))
    relative = {p[len(prefix) :]: member for p, member in files.items()}
    manifests = sorted(p for p in relative if "/" not in p and p.lower().endswith(".csv"))
    if len(manifests) > 1:
        raise DatasetError(
            f"found several CSV files at the top of the zip ({', '.join(manifests)}); keep one manifest"
        )
    if manifests:
        from searchcore.data.manifest import read_manifest

        listing = read_manifest(zf, relative, manifests[0], limits, deadline)
        skipped.merge(listing.skipped)
        listing.skipped = skipped
        return listing
    entries = _folder_entries(relative, skipped)
    if not entries:
        raise DatasetError(
            "no class folders with images found: put each class's images in a folder named after the class "
            "(cat/1.png, dog/2.jpg) or add a CSV manifest (path,label[,split])"
        )
    return ArchiveListing(entries=entries, layout="folders", skipped=skipped)


def _folder_entries(relative: dict[str, str], skipped: IssueLog) -> list[ImageEntry]:
    entries: list[ImageEntry] = []
    for path in sorted(relative):
        member = relative[path]
        if "/" not in path:
            skipped.add(FileIssue(member, "not inside a class folder", "outside_class_folder"))
        elif not is_image_name(path):
            ext = posixpath.splitext(path)[1] or "no extension"
            skipped.add(FileIssue(member, f"not an image file ({ext})", "not_image"))
        else:
            entries.append(ImageEntry(member=member, label=path.split("/", 1)[0]))
    return entries


def human_size(n: int) -> str:
    """Human size: ``"512 bytes"``, ``"3.1 KiB"``, ``"2.0 GiB"``."""
    if n < 1024:
        return f"{n} bytes"
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"
