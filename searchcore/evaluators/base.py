"""The evaluator contract: how a sampled architecture earns its reward.

- ``shared``: ENAS weight sharing. ``train_epoch`` trains the supernet one pass over the train
  split with one controller-sampled architecture per minibatch; ``reward`` is the accuracy of the
  architecture on one validation minibatch (``full=True``: on the whole validation split).
- ``benchmark``: NAS-Bench-201 table lookup; ``train_epoch`` does nothing, ``reward`` is the table's
  test accuracy in percent.
- ``scratch`` (later issue): trains each child from scratch for K epochs.

Evaluators never import Django/Celery; device and seed are injected through ``EvaluatorContext``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from searchcore.spaces.base import IMAGE, SearchSpace


@dataclass(frozen=True)
class EpochStats:
    loss: float | None
    accuracy: float | None
    steps: int


@dataclass
class EvaluatorContext:
    space: SearchSpace
    device: torch.device
    seed: int
    data: Any = None  # searchcore.data.ImageSplits for image spaces; table path for "benchmark"
    should_stop: Callable[[], bool] = lambda: False
    on_step: Callable[[int, int], None] = lambda done, total: None  # progress inside an epoch


class Evaluator(abc.ABC):
    """Subclasses declare what they serve; ``searchcore.compat`` reads these to judge a combination."""

    name: str = ""
    trains_weights: bool = True
    task_kinds: ClassVar[frozenset[str]] = frozenset({IMAGE})  # the task kinds it can score
    spaces: ClassVar[frozenset[str] | None] = None  # only these spaces (None: any of its kinds)
    needs_dataset: ClassVar[bool] = True  # False: ``data`` is something else (e.g. a table)
    needs_supernet: ClassVar[bool] = False  # True: the space must have a shared-weight supernet

    @abc.abstractmethod
    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        """One pass of weight training; ``sample_arch()`` returns an architecture per minibatch."""

    @abc.abstractmethod
    def reward(self, arch: Any, full: bool = False) -> float:
        """Reward of one architecture; higher is better."""

    def steps_per_epoch(self) -> int:
        return 0

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None
