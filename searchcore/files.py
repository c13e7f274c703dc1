"""Atomic, durable file writes: the one helper every writer of a state file uses.

A write goes to ``<name>.tmp`` in the same folder, is flushed and fsync'ed, then ``os.replace``d
over the target, and the folder is fsync'ed so that the rename itself survives a power cut. A
process killed at any moment leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(fh)`` on a temporary binary file, then move it over ``path`` durably."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(target.parent)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any, *, allow_nan: bool = False) -> Path:
    """Pretty JSON with a final newline; NaN/Infinity are refused unless ``allow_nan``."""
    return atomic_write_text(path, json.dumps(data, indent=2, allow_nan=allow_nan) + "\n")


def fsync_dir(directory: Path) -> None:
    """Make a rename inside ``directory`` durable; not every platform lets a folder be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
