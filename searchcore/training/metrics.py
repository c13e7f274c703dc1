"""Classification metrics for the test split: accuracy, confusion matrix, per-class P/R/F1.

Everything returned is plain JSON (ints, floats, lists, dicts). A ratio whose denominator is zero
(a class never predicted, or absent from the labels) is reported as ``0.0`` rather than NaN, as
scikit-learn does with ``zero_division=0``, so the web page and ``metrics.json`` never hold NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` int64 matrix; rows are true classes, columns predictions."""
    true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}")
    for name, arr in (("y_true", true), ("y_pred", pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(f"{name} holds a class index outside 0..{num_classes - 1}")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, confusion matrix and per-class/macro precision, recall, F1 and support.

    Returns ``{"accuracy", "num_samples", "class_names", "confusion_matrix", "per_class":
    {name: {"precision", "recall", "f1", "support"}}, "macro": {"precision", "recall", "f1"}}``.
    Accuracy is a fraction in 0..1. Macro averages are over all classes, including absent ones.
    """
    names = [str(n) for n in class_names]
    if not names:
        raise ValueError("class_names is empty")
    if len(set(names)) != len(names):
        raise ValueError("class_names has duplicates")
    cm = confusion_matrix(y_true, y_pred, len(names))
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _safe_div(tp, predicted.astype(np.float64))
    recall = _safe_div(tp, support.astype(np.float64))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    total = int(cm.sum())
    per_class = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "num_samples": total,
        "class_names": names,
        "confusion_matrix": cm.tolist(),
        "per_class": per_class,
        "macro": {
            "precision": float(precision.mean()),
            "recall": float(recall.mean()),
            "f1": float(f1.mean()),
        },
    }
