"""Dataset facts the estimate and the plan need."""

from __future__ import annotations

from searchcore.data.tasks import DEFAULT_SEQ_LEN
from webapp.datasets.models import Dataset


def train_size(dataset: Dataset) -> int:
    """Images in the train split (80 % of all when the split is not recorded); for a text corpus,
    sequences of ``DEFAULT_SEQ_LEN`` tokens (what one language training example is)."""
    return split_sizes(dataset)[0]


def split_sizes(dataset: Dataset) -> tuple[int, int]:
    """(train, valid) images: the recorded split, else 80 % / 10 % of all; a text corpus: sequences."""
    report = dataset.report or {}
    if dataset.kind == Dataset.TEXT:
        tokens = report.get("tokens") or {}
        return (int(tokens.get("train") or 0) // DEFAULT_SEQ_LEN,
                int(tokens.get("valid") or 0) // DEFAULT_SEQ_LEN)
    splits = report.get("split_counts") or {}
    if splits.get("train"):
        return int(sum(splits["train"].values())), int(sum((splits.get("valid") or {}).values()))
    total = sum((report.get("counts") or {}).values()) or dataset.num_images or 0
    return int(total * 0.8), int(total * 0.1)
