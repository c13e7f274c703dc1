"""The evaluator contract: how a sampled architecture earns its reward.

- ``shared``: ENAS weight sharing. ``train_epoch`` trains the supernet one pass over the train
  split with one controller-sampled architecture per minibatch; ``reward`` is the accuracy of the
  architecture on one validation minibatch (``full=True``: on the whole validation split).
- ``benchmark``: NAS-Bench-201 table lookup; ``train_epoch`` does nothing, ``reward`` is the table's
  test accuracy in percent.
- ``scratch``: trains each child standalone from scratch (NAS-RL, NASNet); ``reward`` is its
  validation accuracy (optionally cubed). Each child is a self-contained job.

Scoring goes through ``submit(archs) -> Ticket`` and ``wait(ticket, should_stop)``: the search loop
submits a controller step's batch and waits for it, so an evaluator may score the batch anywhere
(its jobs go to ``context.executor``, see ``searchcore.evaluators.executor``). ``reward`` is the
one-architecture shorthand.

Evaluators never import Django/Celery; device and seed are injected through ``EvaluatorContext``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from searchcore.evaluators.executor import Executor, InProcessExecutor, Ticket
from searchcore.schema import Schema
from searchcore.spaces.base import IMAGE, SearchSpace


@dataclass(frozen=True)
class EpochStats:
    loss: float | None
    accuracy: float | None
    steps: int
    # more ``child_train`` fields of this evaluator's kind (language: ``valid_perplexity``, ...)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluatorContext:
    space: SearchSpace
    device: torch.device
    seed: int
    data: Any = None  # what load_task_data gave (ImageDataset, LanguageData); the table path for "benchmark"
    should_stop: Callable[[], bool] = lambda: False
    on_step: Callable[[int, int], None] = lambda done, total: None  # progress inside an epoch
    batch_size: int = 64  # the search's batch size (an evaluator's own batch_size option overrides it)
    budget_fraction: Callable[[], float] = lambda: 0.0  # share of the search budget used so far, 0..1
    executor: Executor = field(default_factory=InProcessExecutor)  # where self-contained jobs run
    # how a self-contained job finds the data again (``evaluators.data_ref``): the file and how it was
    # loaded; None when the data came from elsewhere (then jobs that need a dataset cannot be built)
    data_ref: dict[str, Any] | None = None
    on_score: Callable[[float], None] = lambda fraction: None  # share of the batch being waited on scored


class Evaluator(abc.ABC):
    """Subclasses declare what they serve; ``searchcore.compat`` reads these to judge a combination."""

    name: str = ""
    trains_weights: bool = True
    task_kinds: ClassVar[frozenset[str]] = frozenset({IMAGE})  # the task kinds it can score
    spaces: ClassVar[frozenset[str] | None] = None  # only these spaces (None: any of its kinds)
    needs_dataset: ClassVar[bool] = True  # False: ``data`` is something else (e.g. a table)
    needs_supernet: ClassVar[bool] = False  # True: the space must have a shared-weight supernet
    summary: ClassVar[str] = ""  # one line for the designer and the CLI
    schema: ClassVar[Schema] = Schema("evaluator")  # the user-settable options
    suggested_samples_per_update: ClassVar[int] = 1  # architectures per controller step by default
    # at most this many controller samples scored by derive (None: the search's ``derive_samples``);
    # an evaluator whose search rewards are already full scores needs no new ones
    max_derive_samples: ClassVar[int | None] = None

    @abc.abstractmethod
    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        """One pass of weight training; ``sample_arch()`` returns an architecture per minibatch."""

    @abc.abstractmethod
    def submit(self, archs: Sequence[Any], full: bool = False) -> Ticket:
        """Start scoring ``archs`` (``full``: on everything, as ``derive`` does); returns at once."""

    @abc.abstractmethod
    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[float] | None:
        """Rewards of the submitted architectures, in order (higher is better); ``None`` when
        ``should_stop()`` said stop before all were scored (the batch is then dropped)."""

    def reward(self, arch: Any, full: bool = False) -> float:
        """Reward of one architecture, never interrupted."""
        rewards = self.wait(self.submit([arch], full=full), lambda: False)
        if rewards is None or len(rewards) != 1:
            raise RuntimeError(f"{self.name} evaluator returned {rewards!r} for one architecture")
        return rewards[0]

    def steps_per_epoch(self) -> int:
        return 0

    def full_score_batches(self) -> int:
        """How many of a controller step's reward units one ``full=True`` score costs (the loop
        reserves derive's time from it): the validation minibatches for ``shared``, 1 by default."""
        return 1

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None
