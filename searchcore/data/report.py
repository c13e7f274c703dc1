"""The dataset health report the web app shows after validating an upload.

Its size is bounded whatever the upload: ``skipped`` keeps only the first few issues per reason
(``searchcore.data.issues``) and ``skipped_counts`` counts them all; ``image_sizes`` keeps the
``MAX_SIZES`` most common sizes and sums the rest under ``"other"``; the class count is capped by
``ArchiveLimits.max_classes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from searchcore.data.errors import FileIssue
from searchcore.data.native import native_format

FEW_IMAGES = 10  # a class below this gets a warning
MAX_IMBALANCE = 100.0  # largest / smallest class
MAX_SIZES = 50  # distinct image sizes kept in the report
OTHER_SIZES = "other"


@dataclass
class DatasetReport:
    class_names: list[str]
    counts: dict[str, int]  # images per class, all splits
    split_counts: dict[str, dict[str, int]]  # {"train": {cls: n}, "valid": ..., "test": ...}
    image_sizes: dict[str, int]  # original sizes, {"32x32": 100}
    skipped: list[FileIssue] = field(default_factory=list)  # the first issues of each reason
    skipped_counts: dict[str, int] = field(default_factory=dict)  # every issue, per reason code
    warnings: list[str] = field(default_factory=list)
    layout: str = "folders"  # "folders" | "manifest"
    image_size: int = 32  # the side every image was resized to
    channels: int = 3
    modes: dict[str, int] = field(default_factory=dict)  # original Pillow modes, {"L": 100}

    def __post_init__(self) -> None:
        self.image_sizes = bounded_sizes(self.image_sizes)
        if not self.skipped_counts and self.skipped:  # a report stored before counts were kept
            for issue in self.skipped:
                self.skipped_counts[issue.code] = self.skipped_counts.get(issue.code, 0) + 1

    @property
    def num_images(self) -> int:
        return sum(self.counts.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped_counts.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped_total"] = self.skipped_total
        data["num_images"] = self.num_images
        data["num_classes"] = len(self.class_names)
        side, grayscale = native_format(self.image_sizes, self.modes)
        data["native"] = {"image_size": side, "grayscale": grayscale}  # see searchcore.data.native
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["skipped"] = [FileIssue(**issue) for issue in data.get("skipped", [])]
        return cls(**known)


def health_warnings(report: DatasetReport, fractions: Sequence[float]) -> list[str]:
    """Warnings about class sizes, balance, image sizes and empty split/class cells."""
    warnings = _class_warnings(report.counts)
    warnings += _size_warnings(report.image_sizes, report.image_size)
    warnings += _split_warnings(report.class_names, report.split_counts, fractions)
    if report.skipped_total:
        warnings.append(
            f"{report.skipped_total:,} file(s) were skipped; see the list of skipped files"
        )
    return warnings


def bounded_sizes(sizes: dict[str, int]) -> dict[str, int]:
    """The ``MAX_SIZES`` most common sizes; the images of all the others summed under ``"other"``."""
    if len(sizes) <= MAX_SIZES:
        return sizes
    ranked = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(ranked[:MAX_SIZES])
    kept[OTHER_SIZES] = kept.get(OTHER_SIZES, 0) + sum(n for _, n in ranked[MAX_SIZES:])
    return kept


def _class_warnings(counts: dict[str, int]) -> list[str]:
    warnings = [
        f"class {name!r} has only {n} image(s) (fewer than {FEW_IMAGES}); its accuracy will be unreliable"
        for name, n in counts.items()
        if n < FEW_IMAGES
    ]
    if counts:
        largest = max(counts, key=lambda k: counts[k])
        smallest = min(counts, key=lambda k: counts[k])
        ratio = counts[largest] / max(counts[smallest], 1)
        if ratio > MAX_IMBALANCE:
            warnings.append(
                f"classes are very imbalanced: {largest!r} has {counts[largest]} images, {smallest!r} has "
                f"{counts[smallest]} ({ratio:.0f}x); consider collecting more of the small classes"
            )
    return warnings


def _size_warnings(image_sizes: dict[str, int], image_size: int) -> list[str]:
    if len(image_sizes) <= 1:
        return []
    ranked = sorted(image_sizes.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{size}: {n}" for size, n in ranked[:5])
    more = f" and {len(ranked) - 5} more" if len(ranked) > 5 else ""
    many = f"more than {MAX_SIZES}" if OTHER_SIZES in image_sizes else str(len(ranked))
    return [
        f"images have {many} different sizes ({shown}{more}); "
        f"all are resized to {image_size}x{image_size}, which stretches those that are not square"
    ]


def _split_warnings(
    class_names: list[str], split_counts: dict[str, dict[str, int]], fractions: Sequence[float]
) -> list[str]:
    warnings = []
    for (split, per_class), fraction in zip(split_counts.items(), fractions, strict=True):
        if fraction <= 0 and not any(per_class.values()):
            continue
        missing = [name for name in class_names if per_class.get(name, 0) == 0]
        if missing:
            listed = ", ".join(repr(m) for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
            warnings.append(f"the {split} split has no image of class(es) {listed}")
    return warnings
