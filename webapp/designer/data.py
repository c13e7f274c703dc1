"""Dataset facts the estimate and the plan need."""

from __future__ import annotations

from webapp.datasets.models import Dataset


def train_size(dataset: Dataset) -> int:
    """Images in the train split (80 % of all when the split is not recorded)."""
    return split_sizes(dataset)[0]


def split_sizes(dataset: Dataset) -> tuple[int, int]:
    """(train, valid) images: the recorded split, else 80 % / 10 % of all."""
    report = dataset.report or {}
    splits = report.get("split_counts") or {}
    if splits.get("train"):
        return int(sum(splits["train"].values())), int(sum((splits.get("valid") or {}).values()))
    total = sum((report.get("counts") or {}).values()) or dataset.num_images or 0
    return int(total * 0.8), int(total * 0.1)
