"""A dataset named by reference, so that a self-contained job can load it again anywhere.

A reference is JSON: the task kind, the file's absolute path, the split seed and the input the
search resolved (image side and grayscale; an "auto" setting is stored as what it resolved to, so
another machine decodes exactly the same tensors). ``search.setup.build_parts`` makes one for the
search's data (``EvaluatorContext.data_ref``) and ``remember``s the data it already loaded, so a job
run in this process reuses it; elsewhere ``load_referenced`` loads it from the file (kept in a small
cache, keyed by the reference and the file's size and modification time).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from searchcore.spaces.base import IMAGE

CACHE_SIZE = 2  # datasets kept loaded per process (a worker serves one search at a time)
_CACHE: OrderedDict[str, Any] = OrderedDict()
_LOCK = threading.Lock()


def data_reference(kind: str, path: str | Path, data: Any, seed: int) -> dict[str, Any]:
    """The reference of ``data``, loaded from ``path`` as task ``kind`` with split seed ``seed``."""
    ref: dict[str, Any] = {"kind": kind, "path": str(Path(path).resolve()), "seed": int(seed)}
    if kind == IMAGE:
        ref.update(image_size=int(data.image_size), grayscale=data.channels == 1)
    elif hasattr(data, "seq_len"):
        ref["seq_len"] = int(data.seq_len)
    return ref


def remember(ref: dict[str, Any], data: Any) -> None:
    """Keep ``data`` (loaded as ``ref`` says) for the jobs run in this process."""
    key = _key(ref)
    with _LOCK:
        _CACHE[key] = data
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)


def load_referenced(ref: dict[str, Any]) -> Any:
    """The data ``ref`` names: from this process's cache, else loaded from its file (and cached)."""
    key = _key(ref)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    from searchcore.data import load_task_data

    settings = {k: v for k, v in ref.items() if k not in ("kind", "path")}
    data = load_task_data(str(ref["kind"]), ref["path"], **settings)
    remember(ref, data)
    return data


def forget_all() -> None:
    """Empty the cache (tests: a job must also work from its JSON alone)."""
    with _LOCK:
        _CACHE.clear()


def _key(ref: dict[str, Any]) -> str:
    for name in ("kind", "path"):
        if name not in ref:
            raise ValueError(f"a data reference needs {name!r}; got {sorted(ref)}")
    path = Path(ref["path"])
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    stat = path.stat()
    return json.dumps({**ref, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}, sort_keys=True)


__all__ = ["CACHE_SIZE", "data_reference", "forget_all", "load_referenced", "remember"]
