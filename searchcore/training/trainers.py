"""Final trainers by task kind: ``trainer_for(kind)`` -> the trainer that knows that kind's data.

``train_final`` owns what every kind shares (configuration, events, building the child, the budget,
the training folder); a trainer owns what depends on the kind: loading the data, the batches and
the epoch loop (its loss), the test metrics, ``preprocessing.json`` and the verification samples
for the export. The image trainer (``training.image``) is registered here; a language trainer
(perplexity) is one more module that calls ``register_trainer("language")``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from searchcore.events import Emitter
from searchcore.registry import KindRegistry
from searchcore.schema import Schema
from searchcore.training.loop import LoopOutcome, LoopSettings


class EpochLoop(Protocol):
    def run(self) -> LoopOutcome: ...

    def restore(self, state: dict[str, torch.Tensor] | None) -> None: ...


class Trainer(Protocol):
    """What ``train_final`` asks of a task kind; ``config`` is the ``FinalConfig``."""

    kind: str
    final_schema: Schema  # this kind's user-settable final training (``training.settings.final_errors``)

    def load_data(self, config: Any) -> Any:
        """The data (with ``.task() -> TaskSpec``) of ``config.data`` (and ``config.test_data``)."""

    def prepare_model(self, model: nn.Module, config: Any) -> nn.Module:
        """Layout changes before training (e.g. channels-last for convolutions)."""

    def make_loop(self, model: nn.Module, config: Any, data: Any, device: torch.device,
                  generator: torch.Generator, settings: LoopSettings, emitter: Emitter,
                  should_stop: Callable[[], bool]) -> EpochLoop:
        """The epoch loop over this kind's batches, with this kind's loss."""

    def evaluate(self, model: nn.Module, config: Any, data: Any, device: torch.device) -> dict[str, Any]:
        """This kind's test metrics (JSON); must include ``evaluated_on``."""

    def preprocessing(self, data: Any, config: Any) -> dict[str, Any]:
        """``preprocessing.json``: what ``predict.py`` needs; includes ``"task": TaskSpec.to_dict()``."""

    def write_samples(self, out: Path, data: Any) -> None:
        """A few real test inputs (``test_samples.safetensors``) the export is verified on."""


def _load_builtin_trainers() -> None:
    import searchcore.training.image  # noqa: F401  (registers the image trainer)
    import searchcore.training.language  # noqa: F401  (registers the language-model trainer)


_TRAINERS: KindRegistry[Trainer] = KindRegistry("final trainer", "trainable kinds",
                                                 _load_builtin_trainers)


def register_trainer(kind: str) -> Callable[[type], type]:
    """Class decorator: an instance of the class trains tasks of ``kind``."""
    return _TRAINERS.register(kind)


def trainer_for(kind: str) -> Trainer:
    """The trainer of ``kind``; raises ``ValueError`` naming the kinds that can be trained."""
    return _TRAINERS.get(kind)


def trainer_kinds() -> list[str]:
    return _TRAINERS.kinds()
