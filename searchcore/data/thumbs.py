"""Small PNG previews of each class for the dataset page."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

from PIL import Image

from searchcore.data.archive import ZIP_READ_ERRORS, ArchiveLimits, ImageEntry, list_image_entries, open_zip
from searchcore.data.deadline import NO_DEADLINE, Deadline
from searchcore.data.images import ImageDecodeError, load_pil


def thumbnails(
    path: str | Path,
    per_class: int = 4,
    size: int = 64,
    *,
    limits: ArchiveLimits = ArchiveLimits(),
    deadline: Deadline = NO_DEADLINE,
) -> dict[str, list[bytes]]:
    """``{class: [png bytes, ...]}`` with up to ``per_class`` readable images per class, classes sorted.

    Each preview keeps the image's aspect ratio and fits in ``size`` x ``size``; unreadable files
    are passed over (the report lists them). The classes are those of the report (a class with
    fewer than 2 readable images is left out there and here), in the same order, so the position
    of a class in this dict is its label index.
    """
    out: dict[str, list[bytes]] = {}
    with open_zip(path, limits) as zf:
        by_class: dict[str, list[ImageEntry]] = defaultdict(list)
        for entry in list_image_entries(zf, limits, deadline).entries:
            by_class[entry.label].append(entry)
        for label in sorted(by_class):
            previews: list[bytes] = []
            for entry in by_class[label]:
                if len(previews) >= max(per_class, 2):
                    break
                deadline.check("making thumbnails")
                try:
                    data = zf.read(entry.member)
                    img, _ = load_pil(
                        data, grayscale=False, max_pixels=limits.max_image_pixels, draft_size=size
                    )
                except (ImageDecodeError, *ZIP_READ_ERRORS):
                    continue
                previews.append(_png(img, size))
            if len(previews) >= 2:  # the loader leaves out classes with one readable image
                out[label] = previews[:per_class]
    return out


def _png(img: Image.Image, size: int) -> bytes:
    img = img.copy()
    img.thumbnail((size, size), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
