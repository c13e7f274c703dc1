"""Image datasets from an uploaded zip: decode, filter, split, normalisation statistics, report."""

from __future__ import annotations

import logging
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from searchcore.data.archive import (
    ZIP_READ_ERRORS,
    ArchiveLimits,
    ArchiveListing,
    ImageEntry,
    human_size,
    list_image_entries,
    open_zip,
)
from searchcore.data.deadline import NO_DEADLINE, Deadline
from searchcore.data.errors import DatasetError, FileIssue
from searchcore.data.images import ImageDecodeError, decode_image
from searchcore.data.issues import IssueLog
from searchcore.data.native import file_mode, probe_native, resolve_input
from searchcore.data.report import DatasetReport, health_warnings
from searchcore.data.splits import SPLITS, assign_splits, check_fractions, subsample
from searchcore.spaces.base import TaskSpec

logger = logging.getLogger(__name__)


@dataclass
class ImageSplit:
    images: Tensor  # uint8 (N, C, H, W)
    labels: Tensor  # int64 (N,)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class ImageDataset:
    train: ImageSplit
    valid: ImageSplit
    test: ImageSplit
    class_names: list[str]
    image_size: int
    channels: int
    mean: tuple[float, ...]  # train split, 0..1 units, per channel
    std: tuple[float, ...]
    report: DatasetReport

    def task(self) -> TaskSpec:
        return TaskSpec(
            in_channels=self.channels, image_size=self.image_size, num_classes=len(self.class_names)
        )

    def preprocessing(self) -> dict[str, Any]:
        """What a deployed model needs to prepare an input (``preprocessing.json`` of the package)."""
        return {
            "image_size": self.image_size,
            "channels": self.channels,
            "grayscale": self.channels == 1,
            "resize": "stretch to a square, bilinear (area when shrinking)",
            "mean": list(self.mean),
            "std": list(self.std),
            "class_names": list(self.class_names),
        }


@dataclass
class _Decoded:
    """Images that survived decoding; ``pixels`` is None when only inspecting."""

    entries: list[ImageEntry]
    pixels: np.ndarray | None
    sizes: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    skipped: IssueLog = field(default_factory=IssueLog)


def load_image_dataset(
    path: str | Path,
    *,
    image_size: int | None = None,
    grayscale: bool | None = None,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    max_images: int | None = None,
    limits: ArchiveLimits = ArchiveLimits(),
) -> ImageDataset:
    """Load a zip of class folders or a CSV manifest into uint8 tensors split train/valid/test.

    ``image_size``/``grayscale`` left ``None`` are the dataset's native ones (``searchcore.data.native``).
    """
    decoded, report, split_of = _prepare(
        path, image_size, grayscale, split, seed, max_images, limits, keep=True
    )
    assert decoded.pixels is not None
    images = _to_nchw(decoded.pixels)
    index = {name: k for k, name in enumerate(report.class_names)}
    labels = torch.tensor([index[e.label] for e in decoded.entries], dtype=torch.int64)
    members = [torch.from_numpy(np.flatnonzero(split_of == i)) for i in range(len(SPLITS))]
    parts = [ImageSplit(images[m].contiguous(), labels[m]) for m in members]
    splits = dict(zip(SPLITS, parts, strict=True))
    mean, std = channel_stats(splits["train"].images)
    logger.info(
        "loaded %s: %d images, %d classes, %d skipped",
        Path(path).name,
        len(labels),
        len(report.class_names),
        report.skipped_total,
    )
    return ImageDataset(
        train=splits["train"], valid=splits["valid"], test=splits["test"], class_names=report.class_names,
        image_size=report.image_size, channels=report.channels, mean=mean, std=std, report=report,
    )  # fmt: skip


def inspect_image_archive(
    path: str | Path,
    *,
    image_size: int | None = None,
    grayscale: bool | None = None,
    split: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    max_images: int | None = None,
    limits: ArchiveLimits = ArchiveLimits(),
    deadline: Deadline = NO_DEADLINE,
) -> DatasetReport:
    """The report ``load_image_dataset`` would give, decoding every image but keeping no pixels.

    ``deadline`` is checked in every loop over entries, rows and images (``ValidationTimeout``)."""
    _, report, _ = _prepare(
        path, image_size, grayscale, split, seed, max_images, limits, keep=False, deadline=deadline
    )
    return report


def channel_stats(images: Tensor, chunk: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of uint8 images, in 0..1 units, summed exactly in int64."""
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.int64)
    squares = torch.zeros(channels, dtype=torch.int64)
    for part in images.split(chunk):
        wide = part.to(torch.int32)
        total += wide.sum(dim=(0, 2, 3), dtype=torch.int64).cpu()
        squares += (wide * wide).sum(dim=(0, 2, 3), dtype=torch.int64).cpu()
    count = max(images.shape[0] * images.shape[2] * images.shape[3], 1)
    mean = total.double() / count
    var = (squares.double() / count - mean * mean).clamp_min(0.0)
    std = var.sqrt().clamp_min(1e-3 * 255)  # a constant channel must not divide by zero
    return tuple(float(m) / 255 for m in mean), tuple(float(s) / 255 for s in std)


def _prepare(
    path: str | Path,
    image_size: int | None,
    grayscale: bool | None,
    split: Sequence[float],
    seed: int,
    max_images: int | None,
    limits: ArchiveLimits,
    *,
    keep: bool,
    deadline: Deadline = NO_DEADLINE,
) -> tuple[_Decoded, DatasetReport, np.ndarray]:
    if image_size is not None and not 1 <= image_size <= 1024:
        raise DatasetError(f"image size must be between 1 and 1024, not {image_size}")
    fractions = check_fractions(split)
    with open_zip(path, limits) as zf:
        listing = list_image_entries(zf, limits, deadline)
        side, gray = _input(zf, listing, image_size, grayscale, deadline)
        entries = _subsample(listing.entries, max_images, seed)
        decoded = _decode_all(zf, entries, (side, gray), limits, keep, deadline)
    skipped = listing.skipped
    skipped.merge(decoded.skipped)
    decoded.skipped = skipped
    _drop_small_classes(decoded)
    class_names = sorted({e.label for e in decoded.entries})
    _check_classes(class_names, decoded, limits.max_classes)
    index = {name: k for k, name in enumerate(class_names)}
    label_ids = [index[e.label] for e in decoded.entries]
    split_of, split_warnings = assign_splits(
        label_ids, [e.split for e in decoded.entries], fractions, seed, class_names
    )
    report = _build_report(listing, decoded, class_names, label_ids, split_of, side, gray)
    report.warnings = listing.warnings + split_warnings + health_warnings(report, fractions)
    return decoded, report, split_of


def _input(
    zf: zipfile.ZipFile,
    listing: ArchiveListing,
    image_size: int | None,
    grayscale: bool | None,
    deadline: Deadline,
) -> tuple[int, bool]:
    """The side and colour to decode at: explicit settings, else native over the whole listing
    (so that ``max_images``/``seed`` cannot change them)."""
    if image_size is not None and grayscale is not None:
        return image_size, grayscale
    return resolve_input(image_size, grayscale, probe_native(zf, listing.entries, deadline))


def _subsample(entries: list[ImageEntry], max_images: int | None, seed: int) -> list[ImageEntry]:
    if max_images is None:
        return entries
    index = {name: k for k, name in enumerate(sorted({e.label for e in entries}))}
    keep = subsample([index[e.label] for e in entries], max_images, seed)
    return [entries[i] for i in keep]


def _decode_all(
    zf: zipfile.ZipFile,
    entries: list[ImageEntry],
    form: tuple[int, bool],
    limits: ArchiveLimits,
    keep: bool,
    deadline: Deadline,
) -> _Decoded:
    size, grayscale = form
    shape = (len(entries), size, size) if grayscale else (len(entries), size, size, 3)
    needed = int(np.prod(shape))
    if keep and needed > limits.max_decoded_bytes:
        raise DatasetError(
            f"{len(entries):,} images at {size}x{size} would need {human_size(needed)} of memory, more than "
            f"the limit of {human_size(limits.max_decoded_bytes)}; choose a smaller image size or max_images"
        )
    pixels = np.empty(shape, dtype=np.uint8) if keep else None
    out = _Decoded(entries=[], pixels=pixels, skipped=IssueLog(limits.report_examples))
    for number, entry in enumerate(entries, 1):
        deadline.check(f"reading image {number:,} of {len(entries):,}")
        try:
            data = zf.read(entry.member)
            array, (width, height) = decode_image(
                data, size=size, grayscale=grayscale, max_pixels=limits.max_image_pixels
            )
        except ImageDecodeError as exc:
            out.skipped.add(FileIssue(entry.member, str(exc), "unreadable"))
            continue
        except ZIP_READ_ERRORS as exc:
            out.skipped.add(FileIssue(entry.member, f"cannot be read from the zip ({exc})", "unreadable"))
            continue
        if pixels is not None:
            pixels[len(out.entries)] = array
        out.entries.append(entry)
        out.sizes[f"{width}x{height}"] += 1
        out.modes[file_mode(data)] += 1
    if pixels is not None:
        out.pixels = pixels[: len(out.entries)]
    return out


def _drop_small_classes(decoded: _Decoded) -> None:
    """A class with a single readable image cannot be learnt and evaluated: leave it out."""
    counts = Counter(e.label for e in decoded.entries)
    small = {label for label, n in counts.items() if n < 2}
    if not small:
        return
    keep = [i for i, e in enumerate(decoded.entries) if e.label not in small]
    for entry in decoded.entries:
        if entry.label in small:
            reason = (
                f"class {entry.label!r} has only 1 readable image (at least 2 are needed); class left out"
            )
            decoded.skipped.add(FileIssue(entry.member, reason, "small_class"))
    decoded.entries = [decoded.entries[i] for i in keep]
    if decoded.pixels is not None:
        decoded.pixels = decoded.pixels[keep]


def _check_classes(class_names: list[str], decoded: _Decoded, max_classes: int) -> None:
    if not class_names:
        found = f": {decoded.skipped.summary()}" if decoded.skipped.total else ""
        total = decoded.skipped.total
        raise DatasetError(f"no readable images in the zip ({total:,} file(s) skipped{found})")
    if len(class_names) > max_classes:
        raise DatasetError(
            f"found {len(class_names):,} classes, more than the limit of {max_classes:,}; "
            "check the label column (or folder names)"
        )
    if len(class_names) < 2:
        raise DatasetError(
            f"found only one class ({class_names[0]!r}); a classifier needs at least 2 classes"
        )


def _build_report(
    listing: ArchiveListing,
    decoded: _Decoded,
    class_names: list[str],
    label_ids: list[int],
    split_of: np.ndarray,
    image_size: int,
    grayscale: bool,
) -> DatasetReport:
    labels = np.asarray(label_ids, dtype=np.int64)
    split_counts = {
        name: {c: int(((labels == k) & (split_of == i)).sum()) for k, c in enumerate(class_names)}
        for i, name in enumerate(SPLITS)
    }
    counts = {c: int((labels == k).sum()) for k, c in enumerate(class_names)}
    return DatasetReport(
        class_names=class_names, counts=counts, split_counts=split_counts, image_sizes=dict(decoded.sizes),
        skipped=list(decoded.skipped), skipped_counts=dict(decoded.skipped.counts), layout=listing.layout,
        image_size=image_size, channels=1 if grayscale else 3,
        modes=dict(decoded.modes),
    )  # fmt: skip


def _to_nchw(pixels: np.ndarray) -> Tensor:
    tensor = torch.from_numpy(pixels)
    if tensor.ndim == 3:
        return tensor.unsqueeze(1).contiguous()
    return tensor.permute(0, 3, 1, 2).contiguous()
