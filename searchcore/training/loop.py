"""The epoch loop of final training: SGD + cosine LR + ScheduledDropPath + cutout + aux loss.

Kept apart from ``final.py`` (configuration, files, orchestration) so each phase reads on one
screen. Timing decisions live here:

- With ``epochs`` only, the cosine schedule spans ``epochs`` and training runs them all.
- With ``budget_seconds``, the first epoch runs at the base learning rate; after it, and again after
  every epoch, the epochs that fit in the remaining budget (minus the time of a test pass) are
  re-planned from the measured epoch times (the first, slowed by warm-up, counts only while it is
  the only one), so a budget measured under load is still used when the machine gets faster. The
  cosine schedule follows the plan without jumps: each step advances the schedule position by an
  equal share of what is left of it over the steps still planned (for a fixed plan this is exactly
  ``step / total_steps``). Training also stops at the deadline, between minibatches, whatever the
  estimate said. With both ``epochs`` and a budget, the smaller count wins.

GPU speed (``searchcore.accel``): cuDNN autotunes on CUDA; the forward runs under bf16 autocast when
``settings.autocast`` (CUDA), the loss is computed in fp32 outside it; loss and accuracy are summed
on the device and read once per epoch; cutout draws from the loader's generator, which is on the
device (on CPU the same generator as before, so CPU numbers are unchanged).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.accel import DeviceMeter, autocast, configure_backends
from searchcore.events import Emitter
from searchcore.training.io import logits_of, split_output
from searchcore.training.schedules import cosine_at, cutout, scheduled_drop_path, set_drop_path, set_lr

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 2.0


@dataclass
class LoopSettings:
    lr: float
    epochs: int | None
    deadline: float | None  # time.monotonic() value
    drop_path: float
    cutout: int
    aux_weight: float
    label_smoothing: float
    grad_clip: float
    weight_decay: float
    autocast: bool  # bf16 autocast (CUDA)


@dataclass
class LoopOutcome:
    status: str  # "succeeded" | "cancelled"
    epochs_run: int
    epochs_planned: int
    history: list[dict[str, Any]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch: int | None = None
    best_valid_accuracy: float | None = None


class FinalLoop:
    """Trains ``model`` on ``train`` batches, validates on ``valid`` batches each epoch."""

    def __init__(self, model: nn.Module, train: Iterable, valid: Iterable, steps_per_epoch: int,
                 settings: LoopSettings, emitter: Emitter, should_stop: Callable[[], bool],
                 generator: torch.Generator) -> None:
        self.model, self.train, self.valid = model, train, valid
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.s, self.emitter, self.should_stop, self.generator = settings, emitter, should_stop, generator
        self.device = next(model.parameters()).device
        configure_backends(self.device)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=0.9, nesterov=True,
                                         weight_decay=settings.weight_decay)
        self.step = 0
        self.total_steps: int | None = None
        if settings.epochs is not None:
            self.total_steps = settings.epochs * self.steps_per_epoch
        self.epochs_planned = settings.epochs or 1
        self.schedule_pos = 0.0  # 0..1 along the cosine schedule
        self.epoch_seconds: list[float] = []
        self.start = time.monotonic()
        self._last_progress = 0.0
        self._stopped = ""  # "" | "budget" | "cancelled"

    # -- phases ---------------------------------------------------------------------------------
    def run(self) -> LoopOutcome:
        out = LoopOutcome(status="succeeded", epochs_run=0, epochs_planned=self.epochs_planned)
        epoch = 0
        while epoch < self.epochs_planned and not self._stopped:
            epoch_start = time.monotonic()
            set_drop_path(self.model, scheduled_drop_path(self.s.drop_path, epoch, self.epochs_planned))
            train_loss, train_acc, lr, seen = self.train_epoch(epoch)
            if self._stopped == "cancelled" or not seen:
                break
            valid_acc = self.validate()
            out.epochs_run = epoch + 1
            self._record(out, epoch, train_loss, train_acc, valid_acc, lr)
            if self.s.deadline is not None:
                self._plan_epochs(time.monotonic() - epoch_start, epochs_done=epoch + 1)
                out.epochs_planned = self.epochs_planned
            self._emit_progress(epoch + 1, force=True)
            epoch += 1
        if self._stopped == "cancelled":
            out.status = "cancelled"
        return out

    def train_epoch(self, epoch: int) -> tuple[float, float, float, int]:
        """One pass over the train batches (stops early at the deadline or on cancel).

        Returns ``(mean loss, accuracy, last lr, samples seen)``. Sums stay on the device so the
        loop does not wait for the GPU on every step.
        """
        self.model.train()
        meter = DeviceMeter(self.device)
        lr = self.s.lr
        for x, y in self.train:
            if self._should_halt():
                break
            lr = cosine_at(self.s.lr, self.schedule_pos) if self.total_steps else self.s.lr
            set_lr(self.optimizer, lr)
            loss, logits = self._step(x, y)
            self._advance_schedule()
            meter.update(loss, logits, y)
            self.step += 1
            self._emit_progress(epoch + (self.step % self.steps_per_epoch) / self.steps_per_epoch)
        reading = meter.read()  # the epoch's one wait for the device
        if not reading.seen:
            return math.nan, 0.0, lr, 0
        return float(reading.loss), float(reading.accuracy), lr, reading.seen

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.s.cutout:
            x = cutout(x, self.s.cutout, self.generator)
        with self._autocast():
            logits, aux = split_output(self.model(x))
        loss = F.cross_entropy(logits.float(), y, label_smoothing=self.s.label_smoothing)  # fp32
        if aux is not None and self.s.aux_weight:
            loss = loss + self.s.aux_weight * F.cross_entropy(aux.float(), y,
                                                              label_smoothing=self.s.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.s.grad_clip)
        self.optimizer.step()
        return loss, logits

    @torch.no_grad()
    def validate(self) -> float | None:
        self.model.eval()
        correct, seen = 0, 0
        for x, y in self.valid:
            with self._autocast():
                logits = logits_of(self.model(x))
            correct += int((logits.argmax(1) == y).sum())
            seen += y.size(0)
        return correct / seen if seen else None

    # -- bookkeeping ----------------------------------------------------------------------------
    def _record(self, out: LoopOutcome, epoch: int, loss: float, acc: float, valid_acc: float | None,
                lr: float) -> None:
        row = {"epoch": epoch + 1, "epochs": self.epochs_planned, "loss": _finite(loss), "accuracy": acc,
               "valid_accuracy": valid_acc, "lr": lr,
               "drop_path": float(getattr(self.model, "drop_path_prob", 0.0)),
               "elapsed_seconds": round(time.monotonic() - self.start, 3)}
        out.history.append(row)
        self.emitter.emit("final_epoch", **{k: row[k] for k in
                                            ("epoch", "epochs", "loss", "accuracy", "valid_accuracy", "lr")},
                          **self._event_extras())
        logger.info("final epoch %s/%s loss %.4f acc %.4f valid %s", epoch + 1, self.epochs_planned,
                    loss, acc, valid_acc)
        # Keep the best weights on validation; ">=" lets a later epoch (lower LR) win a tie, and
        # without a validation split every epoch ties, so the last weights are kept.
        best = out.best_valid_accuracy
        if valid_acc is None or best is None or valid_acc >= best:
            out.best_valid_accuracy = valid_acc
            out.best_epoch = epoch + 1
            out.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def _event_extras(self) -> dict[str, Any]:
        """Optional ``final_epoch`` fields a task kind adds (language: ``valid_perplexity``)."""
        return {}

    def _advance_schedule(self) -> None:
        if self.total_steps:
            steps_left = max(self.total_steps - self.step, 1)
            self.schedule_pos = min(1.0, self.schedule_pos + (1.0 - self.schedule_pos) / steps_left)

    def _plan_epochs(self, epoch_seconds: float, epochs_done: int) -> None:
        """After each epoch, re-plan how many epochs fit in the time budget (see the module doc)."""
        self.epoch_seconds.append(epoch_seconds)
        timed = self.epoch_seconds[1:] or self.epoch_seconds
        per_epoch = max(sum(timed) / len(timed), 1e-6)
        remaining = self.s.deadline - time.monotonic() - per_epoch * 0.1  # the test pass, the files
        fit = epochs_done + max(0, math.floor(remaining / per_epoch))
        planned = fit if self.s.epochs is None else min(self.s.epochs, fit)
        if planned != self.epochs_planned or self.total_steps is None:
            logger.info("final training: %.1fs per epoch, planning %s epochs", per_epoch, planned)
        self.epochs_planned = max(1, planned)
        self.total_steps = self.epochs_planned * self.steps_per_epoch

    def _should_halt(self) -> bool:
        if self.should_stop():
            self._stopped = "cancelled"
        elif self.s.deadline is not None and self.step > 0 and time.monotonic() >= self.s.deadline:
            # at least one step is taken, so even a budget eaten by data loading yields a model
            self._stopped = "budget"
        return bool(self._stopped)

    def _emit_progress(self, epochs_done: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress = now
        elapsed = now - self.start
        fraction = min(1.0, epochs_done / self.epochs_planned)
        if self.s.deadline is not None and self.total_steps is None:  # epochs not planned yet: use time
            fraction = min(1.0, elapsed / max(self.s.deadline - self.start, 1e-6))
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        if self.s.deadline is not None:
            eta = min(eta, max(0.0, self.s.deadline - now)) if eta is not None else self.s.deadline - now
        self.emitter.emit("progress", phase="final", fraction=round(fraction, 4),
                          eta_seconds=None if eta is None else round(eta, 1), epoch=int(epochs_done),
                          archs_evaluated=0, elapsed_seconds=round(elapsed, 1))

    def _autocast(self) -> Any:
        return autocast(self.s.autocast, self.device)

    def restore(self, state: dict[str, torch.Tensor] | None) -> None:
        if state is not None:
            self.model.load_state_dict(copy.deepcopy(state))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
