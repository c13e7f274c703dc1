"""Final training of a derived architecture and its test metrics.

``final`` is the entry point (``train_final``); ``trainers`` the registry of trainers by task kind
(``image``: cross-entropy, accuracy, confusion matrix); ``loop`` the epoch loop with its budget rules;
``io`` the files of a training folder; ``metrics`` the classification metrics; ``schedules`` the
learning-rate, drop-path and cutout schedules (also used by the shared-weight evaluator).
"""

from __future__ import annotations

from searchcore.training.final import FinalConfig, FinalResult, train_final
from searchcore.training.metrics import classification_metrics

__all__ = ["FinalConfig", "FinalResult", "classification_metrics", "train_final"]
