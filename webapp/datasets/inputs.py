"""A validated image dataset's native input format and the default a search takes from it.

The rule is searchcore's (``searchcore.data.native``); this module only reads it from the stored
report (``Dataset.report``) and words it for the dataset page and the designer.
"""

from __future__ import annotations

from typing import Any

from searchcore.data.native import MAX_NATIVE_SIDE, MIN_NATIVE_SIDE, describe_input, resolve_input
from searchcore.data.native import native_input as report_native
from webapp.datasets.models import Dataset


def native_summary(dataset: Dataset) -> dict[str, Any] | None:
    """``{"image_size", "grayscale", "default_size", "default_grayscale", "text"}`` of an image
    dataset with a report (``image_size`` None: no common side); None for text or unchecked data."""
    report = dataset.report or {}
    if dataset.kind != Dataset.IMAGE or not report.get("image_sizes"):
        return None
    side, grayscale = report_native(report)
    size, gray = resolve_input(None, None, (side, grayscale))
    return {"image_size": side, "grayscale": grayscale, "default_size": size, "default_grayscale": gray,
            "text": _text(report.get("image_sizes") or {}, side, size, gray)}


def _text(sizes: dict[str, int], side: int | None, size: int, gray: bool) -> str:
    default = describe_input(size, gray)
    if side is not None:
        return f"native: {default} (the default)"
    if len(sizes) > 1:
        return f"images of {len(sizes)} sizes: the default is {default}"
    only = next(iter(sizes)).replace("x", "×")
    return (f"images are {only}: the default is {default} (a native side is used from "
            f"{MIN_NATIVE_SIDE} to {MAX_NATIVE_SIDE} pixels)")
