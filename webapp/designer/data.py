"""Dataset facts the estimate needs."""

from __future__ import annotations

from webapp.datasets.models import Dataset


def train_size(dataset: Dataset) -> int:
    """Images in the train split (80 % of all when the split is not recorded)."""
    report = dataset.report or {}
    train = (report.get("split_counts") or {}).get("train")
    if train:
        return int(sum(train.values()))
    total = sum((report.get("counts") or {}).values()) or dataset.num_images or 0
    return int(total * 0.8)
