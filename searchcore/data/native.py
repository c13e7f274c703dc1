"""A dataset's native input format, and the rule that turns "auto" input settings into real ones.

``image_size`` and ``grayscale`` default to ``None`` ("auto") in ``SearchConfig`` and
``FinalConfig``: the loader then takes them from the images, so a 1-channel 28x28 digit set is
trained as it is instead of being stretched to 3-channel 32x32. An explicit value always wins.

The rule (``native_format``), by the images' original sizes and Pillow modes:

- **side**: when every image has the same size ``WxH``, ``max(W, H)`` (a non-square set is
  stretched to that square, as every resize here does, keeping the detail of its longer axis) if it
  lies in ``[MIN_NATIVE_SIDE, MAX_NATIVE_SIDE]``; else ``None``, which means ``DEFAULT_SIDE``. Mixed
  sizes have no native side. The cap of 64 keeps the search proxy affordable on a CPU (a set of
  224x224 photos is searched at 32 unless the user asks for more); a future planner may choose
  the proxy's side itself.
- **grayscale**: every image's mode carries no colour (``GRAY_MODES``: ``1``, ``L``, ``LA``, ``I``,
  ``I;16``, ``F``, ...). By mode only, which costs nothing: an RGB file whose three channels happen
  to be equal counts as colour, and so does a palette (``P``) image.

The loader decides before decoding by reading only the image headers of every listed file (about
50 us each), so the result depends on the archive alone, not on ``seed``/``max_images``/``split``:
a search and the final training of the same dataset always agree.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from searchcore.data.archive import ZIP_READ_ERRORS, ArchiveLimits, ImageEntry, list_image_entries, open_zip
from searchcore.data.deadline import NO_DEADLINE, Deadline

DEFAULT_SIDE = 32
MIN_NATIVE_SIDE = 8  # the smallest side a search accepts (validation.SEARCH_SCHEMA)
MAX_NATIVE_SIDE = 64
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})

Native = tuple[int | None, bool]  # (common side or None, every image grayscale)


def native_format(sizes: Mapping[str, int], modes: Mapping[str, int]) -> Native:
    """``(side | None, grayscale)`` from counts of original sizes (``"28x28"``) and Pillow modes."""
    present = [size for size, n in sizes.items() if n > 0]
    side = None
    if len(present) == 1:
        width, _, height = present[0].partition("x")
        longest = max(int(width), int(height))
        side = longest if MIN_NATIVE_SIDE <= longest <= MAX_NATIVE_SIDE else None
    used = [mode for mode, n in modes.items() if n > 0]
    return side, bool(used) and all(mode in GRAY_MODES for mode in used)


def native_input(report: Any) -> Native:
    """The native format recorded in a ``DatasetReport`` (or its ``to_dict()``, as the web app stores it).

    A report written before modes were recorded has none and reads as colour."""
    if isinstance(report, Mapping):
        return native_format(report.get("image_sizes") or {}, report.get("modes") or {})
    return native_format(report.image_sizes, report.modes)


def resolve_input(image_size: int | None, grayscale: bool | None, native: Native) -> tuple[int, bool]:
    """The side and colour a run uses: the explicit setting, else the native one, else 32 / colour."""
    side, gray = native
    return (image_size if image_size is not None else side or DEFAULT_SIDE,
            grayscale if grayscale is not None else gray)


def describe_input(side: int, grayscale: bool) -> str:
    """``"28×28 grayscale"`` / ``"32×32 colour"``, for pages and logs."""
    return f"{side}×{side} {'grayscale' if grayscale else 'colour'}"


def header_format(source: Any) -> tuple[str, str] | None:
    """``("WxH", mode)`` of an image file object or bytes from its header alone; None if unreadable."""
    try:
        with Image.open(source) as img:
            return f"{img.size[0]}x{img.size[1]}", img.mode
    except Exception:  # noqa: BLE001 - untrusted bytes: the decoder reports the file later
        return None


def file_mode(data: bytes) -> str:
    """The Pillow mode of an image file's bytes (a header read), ``"?"`` when unreadable."""
    found = header_format(io.BytesIO(data))
    return found[1] if found else "?"


def probe_native(
    zf: zipfile.ZipFile, entries: Iterable[ImageEntry], deadline: Deadline = NO_DEADLINE
) -> Native:
    """The native format of ``entries`` of an open zip, reading image headers only."""
    sizes: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    for entry in entries:
        deadline.check("reading image headers")
        try:
            with zf.open(entry.member) as f:
                found = header_format(f)
        except ZIP_READ_ERRORS:
            found = None
        if found is not None:
            sizes[found[0]] += 1
            modes[found[1]] += 1
    return native_format(sizes, modes)


def archive_native(path: str | Path, limits: ArchiveLimits = ArchiveLimits()) -> Native:
    """The native format of an image zip (every listed image, whatever the sampling)."""
    with open_zip(path, limits) as zf:
        return probe_native(zf, list_image_entries(zf, limits).entries)


def resolve_image_input(path: str | Path, *, image_size: int | None = None,
                        grayscale: bool | None = None) -> tuple[int, bool]:
    """What ``load_image_dataset(path, image_size=..., grayscale=...)`` will use, without decoding.

    The zip is opened only when a setting is left to the dataset."""
    if image_size is not None and grayscale is not None:
        return image_size, grayscale
    return resolve_input(image_size, grayscale, archive_native(path))


__all__ = ["DEFAULT_SIDE", "GRAY_MODES", "MAX_NATIVE_SIDE", "MIN_NATIVE_SIDE", "archive_native",
           "describe_input", "file_mode", "header_format", "native_format", "native_input", "probe_native",
           "resolve_image_input", "resolve_input"]
