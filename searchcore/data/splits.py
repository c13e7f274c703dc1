"""Stratified, seeded train/valid/test assignment and stratified subsampling.

Every class with at least 3 images gets at least one image in each split whose fraction is
non-zero (with 10 images per class and 80/10/10 that is 8/1/1); a smaller class goes to train
and the report warns. Splits given by a manifest are kept; if the manifest leaves a wanted split
empty, a share of each class's train images is moved there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from searchcore.data.errors import DatasetError

SPLITS = ("train", "valid", "test")
_SPLIT_INDEX = {name: i for i, name in enumerate(SPLITS)}


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if len(fractions) != 3 or any(f < 0 for f in fractions):
        raise DatasetError("split must be three non-negative fractions (train, valid, test)")
    if fractions[0] <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise DatasetError(
            f"split fractions must add up to 1 with a positive train share, not {tuple(fractions)}"
        )
    return (float(fractions[0]), float(fractions[1]), float(fractions[2]))


def split_sizes(n: int, fractions: Sequence[float]) -> tuple[int, int, int] | None:
    """Images of one class per split, or None when the class is too small for every split."""
    wanted = [f > 0 for f in fractions[1:]]
    if n < 1 + sum(wanted):
        return None
    valid, test = (max(1, _round(n * f)) if w else 0 for f, w in zip(fractions[1:], wanted, strict=True))
    while valid + test > n - 1:
        if valid >= test:
            valid -= 1
        else:
            test -= 1
    return n - valid - test, valid, test


def assign_splits(
    labels: Sequence[int],
    given: Sequence[str | None],
    fractions: Sequence[float],
    seed: int,
    class_names: Sequence[str],
) -> tuple[np.ndarray, list[str]]:
    """Split index (0 train, 1 valid, 2 test) per sample, and warnings about what was adjusted."""
    fractions = check_fractions(fractions)
    generator = torch.Generator().manual_seed(seed)
    labels_arr = np.asarray(labels, dtype=np.int64)
    result = np.array([_SPLIT_INDEX[s] if s is not None else -1 for s in given], dtype=np.int64)
    warnings: list[str] = []
    for cls in np.unique(labels_arr):
        auto = np.flatnonzero((labels_arr == cls) & (result == -1))
        if len(auto) and not _split_class(result, auto, fractions, generator):
            name = class_names[int(cls)]
            warnings.append(
                f"class {name!r} has only {len(auto)} image(s) to split; all of them went to train"
            )
    warnings += _fill_empty_splits(
        result, labels_arr, fractions, generator, any(s is not None for s in given)
    )
    return result, warnings


def _split_class(
    result: np.ndarray, indices: np.ndarray, fractions: Sequence[float], generator: torch.Generator
) -> bool:
    sizes = split_sizes(len(indices), fractions)
    if sizes is None:
        result[indices] = 0
        return False
    order = indices[torch.randperm(len(indices), generator=generator).numpy()]
    n_train, n_valid, _ = sizes
    result[order[:n_train]] = 0
    result[order[n_train : n_train + n_valid]] = 1
    result[order[n_train + n_valid :]] = 2
    return True


def _fill_empty_splits(
    result: np.ndarray,
    labels: np.ndarray,
    fractions: Sequence[float],
    generator: torch.Generator,
    manifest: bool,
) -> list[str]:
    empty = [s for s in (1, 2) if fractions[s] > 0 and not (result == s).any()]
    if not manifest or not empty:
        return []
    carve = [fractions[0]] + [fractions[s] if s in empty else 0.0 for s in (1, 2)]
    for cls in np.unique(labels):
        train = np.flatnonzero((labels == cls) & (result == 0))
        if len(train):
            _split_class(result, train, carve, generator)
    names = " and ".join(SPLITS[s] for s in empty)
    return [f"the manifest gives no {names} images; a share of each class's train images was moved there"]


def subsample(labels: Sequence[int], max_images: int, seed: int) -> np.ndarray:
    """Sorted indices of about ``max_images`` samples, stratified; each class keeps >= min(n, 3)."""
    labels_arr = np.asarray(labels, dtype=np.int64)
    if max_images < 1:
        raise DatasetError("max_images must be at least 1")
    if max_images >= len(labels_arr):
        return np.arange(len(labels_arr))
    classes, counts = np.unique(labels_arr, return_counts=True)
    quotas = _largest_remainder(counts, max_images)
    generator = torch.Generator().manual_seed(seed + 7919)
    kept: list[np.ndarray] = []
    for cls, count, quota in zip(classes, counts, quotas, strict=True):
        members = np.flatnonzero(labels_arr == cls)
        take = min(int(count), max(int(quota), 3))
        kept.append(members[torch.randperm(len(members), generator=generator).numpy()[:take]])
    return np.sort(np.concatenate(kept))


def _largest_remainder(counts: np.ndarray, total: int) -> np.ndarray:
    exact = counts * (total / counts.sum())
    quotas = np.floor(exact).astype(np.int64)
    remainder = total - int(quotas.sum())
    for i in np.argsort(-(exact - quotas), kind="stable")[:remainder]:
        quotas[i] += 1
    return quotas


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))
