"""Evaluator ``shared``: ENAS weight sharing (Pham et al. 2018).

One supernet holds the weights of every candidate operation. ``train_epoch`` makes one pass over
the train split, training the path of one controller-sampled architecture per minibatch (SGD,
momentum 0.9, Nesterov, weight decay 1e-4, gradient clipping at 5, augmentation on); the search loop
may score architectures from ``context.on_step`` between two training steps (interleaved
controller steps, see ``searchcore.search.schedule``). ``reward`` is the accuracy in [0, 1] of
an architecture on the next validation minibatch (the batches are cycled through in a fixed,
seeded order); ``full=True`` scores the whole validation split.

Learning rate: cosine from ``lr`` to ``lr_min`` over the *budget*, evaluated every step on the
fraction of the budget used (``budget_fraction()``, supplied by the search loop). A budget given
in epochs makes this the usual per-step cosine; a time-only budget anneals on elapsed time, so the
schedule ends when the budget does without guessing the number of epochs in advance.

Batch norm: rewards are computed with the supernet in *train* mode (batch statistics, no grad).
The running statistics of a shared BN layer average over every architecture that used it, so
they fit none of them (ENAS micro's BN layers are even ``affine=False`` and rely on batch
statistics); scoring with batch statistics is what one-shot methods do (cf. SPOS's BN
recalibration). Running statistics are never read by this evaluator.

Device (``searchcore.accel``): on CUDA the supernet forward runs under bf16 autocast (option ``amp``:
true/"auto" = CUDA only, "on", false/"off"); the loss is computed in float32 outside it and the
controller never runs inside it. cuDNN autotunes on CUDA. The training batches' randomness comes
from a generator on the device (on CPU: the same seeded CPU generator as before, so CPU numbers are
unchanged), and loss/accuracy are summed on the device and read back once per epoch: the inner
loop makes no host synchronisation of its own.
Supernet and inputs use ``channels_last`` (measured on CPU, 1 thread, 32x32 tiny CIFAR, batch 32:
nb201 16ch 0.22-0.43 s/epoch vs 0.40-0.60 without; enas-micro 16ch 0.55-0.66 vs 0.85-1.9; it is
the usual layout for convolutions on CUDA too). The validation split is materialised once on the
device as normalised float batches.

Rewards need this process's supernet, so ``submit``/``wait`` score in process (the batch is
scored when waited on, ``should_stop`` checked between architectures), not through the executor.
The schedule, the clipped SGD step, ``submit``/``wait`` and the common checkpoint keys are
``shared_base.SharedWeightsEvaluator``'s, shared with the language evaluator.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from searchcore.accel import (
    DeviceMeter,
    autocast,
    configure_backends,
    device_generator,
    resolve_autocast,
    restore_generator,
)
from searchcore.evaluators import register_evaluator
from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.evaluators.shared_base import SharedWeightsEvaluator
from searchcore.schema import Option, Schema
from searchcore.spaces.base import IMAGE, LANGUAGE

logger = logging.getLogger(__name__)

SCHEMA = Schema("shared evaluator", (
    Option("batch_size", "int", 64, "images per supernet training step and per reward minibatch",
           minimum=1, maximum=4096),
    Option("lr", "float", 0.05, "peak SGD learning rate (cosine over the budget); a language space's "
           "default is ENAS' 20", minimum=1e-6, maximum=100.0),
    Option("lr_min", "float", 0.0005, "learning rate at the end of the budget", minimum=0.0, maximum=10.0),
    Option("momentum", "float", 0.9, "SGD (Nesterov) momentum", minimum=0.0, maximum=0.999),
    Option("weight_decay", "float", 1e-4, "L2 weight decay", minimum=0.0, maximum=0.1),
    Option("grad_clip", "float", 5.0, "gradient norm clip (0 or none: off)", minimum=0.0, maximum=1000.0,
           nullable=True),
    Option("augment", "bool", True, "random crop and flip of training images"),
    Option("amp", "bool", True, "bf16 autocast on CUDA (never on CPU)"),
    Option("channels_last", "bool", True, "channels-last memory layout"),
))


class SharedEvaluator(SharedWeightsEvaluator):
    summary: ClassVar[str] = ("Weight sharing (ENAS): one supernet, each architecture scored on validation "
                              "batches. Fast.")
    task_kinds: ClassVar[frozenset[str]] = frozenset({IMAGE, LANGUAGE})  # language: shared_language.py
    schema: ClassVar[Schema] = SCHEMA
    suggested_samples_per_update: ClassVar[int] = 1  # ENAS: one architecture per controller step

    def __init__(self, context: EvaluatorContext, *, batch_size: int | None = None, lr: float = 0.05,
                 lr_min: float = 0.0005, momentum: float = 0.9, weight_decay: float = 1e-4,
                 grad_clip: float = 5.0, augment: bool = True, amp: bool | str = True,
                 channels_last: bool = True) -> None:
        from searchcore.data import BatchLoader  # the data package is only needed by image searches

        data = context.data
        if data is None or not hasattr(data, "train"):
            raise ValueError("the shared evaluator needs an image dataset")
        if len(data.train.labels) == 0 or len(data.valid.labels) == 0:
            raise ValueError("the shared evaluator needs images in both the train and the validation split")
        self.context = context
        self.device = context.device
        self.lr, self.lr_min, self.grad_clip = lr, lr_min, grad_clip
        self.amp = resolve_autocast(amp, context.device)
        configure_backends(context.device)
        self.budget_fraction = context.budget_fraction
        batch_size = batch_size or context.batch_size
        self.channels_last = channels_last
        self.net = context.space.build_supernet(data.task()).to(context.device)
        if channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=momentum, nesterov=True,
                                         weight_decay=weight_decay)
        self.train_generator = device_generator(context.seed, context.device)  # CPU: as before
        loader_args = {"mean": data.mean, "std": data.std, "device": context.device,
                       "channels_last": channels_last}
        self.train_loader = BatchLoader(data.train, batch_size, shuffle=True, augment=augment,
                                        generator=self.train_generator, **loader_args)
        valid_order = torch.Generator().manual_seed(context.seed + 1)
        self.valid_batches = list(BatchLoader(data.valid, batch_size, shuffle=True, augment=False,
                                              generator=valid_order, **loader_args))
        self.steps = 0  # optimiser steps, over the whole search
        self.valid_cursor = 0  # validation minibatches used for rewards

    # -- training -------------------------------------------------------------------------------
    def steps_per_epoch(self) -> int:
        return len(self.train_loader)

    def full_score_batches(self) -> int:
        return len(self.valid_batches)

    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        self.net.train()
        total = len(self.train_loader)
        meter = DeviceMeter(self.device)  # read once, after the epoch: no per-step host sync
        for x, y in self.train_loader:
            if self.context.should_stop():
                break
            loss, logits = self._train_step(x, y, sample_arch())
            meter.update(loss, logits, y)
            self.context.on_step(meter.steps, total)
        reading = meter.read()
        return EpochStats(loss=reading.loss, accuracy=reading.accuracy, steps=meter.steps)

    def _train_step(self, x: torch.Tensor, y: torch.Tensor, arch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        def forward() -> tuple[torch.Tensor, torch.Tensor]:
            with self._autocast():
                logits = self.net(x, arch)
            return F.cross_entropy(logits.float(), y), logits

        loss, logits = self._sgd_step(forward)
        return loss, logits.detach()

    # -- rewards (submit/wait: shared_base) -----------------------------------------------------
    @torch.no_grad()
    def _score(self, arch: Any, full: bool) -> float:
        self.net.train()  # batch statistics, see the module docstring
        if full:
            batches = self.valid_batches
        else:
            batches = [self.valid_batches[self.valid_cursor % len(self.valid_batches)]]
            self.valid_cursor += 1
        correct = seen = 0
        for x, y in batches:
            with self._autocast():
                logits = self.net(x, arch)
            correct += int((logits.argmax(1) == y).sum())
            seen += y.size(0)
        return correct / max(seen, 1)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return autocast(self.amp, self.device)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "train_generator": self.train_generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        # a checkpoint from another device type: reseeded (warned), the rest of the state is kept
        restore_generator(self.train_generator, state["train_generator"], self.context.seed + self.steps)


@register_evaluator("shared")
def shared_evaluator(context: EvaluatorContext, **options: Any) -> Evaluator:
    """``create_evaluator("shared", context=ctx, batch_size=64, lr=0.05, ...)``; a language space gets
    the recurrent-cell version (``shared_language``: BPTT, reward c / perplexity), same options."""
    if context.space.task_kind == LANGUAGE:
        from searchcore.evaluators.shared_language import SharedLanguageEvaluator

        return SharedLanguageEvaluator(context, **options)
    return SharedEvaluator(context, **options)


shared_evaluator.evaluator_class = SharedEvaluator  # type: ignore[attr-defined]
