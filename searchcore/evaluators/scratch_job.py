"""The ``scratch`` evaluator's job: one child built standalone and trained from scratch.

A job is JSON — the architecture, ``ChildSettings.to_dict()`` (space options, a data reference,
epochs or seconds, batch, learning rate, seed, device) — and returns ``{"reward", "valid_accuracy",
"seconds", "epochs"}`` (a language child, whose data reference has kind ``language``, also
``valid_perplexity``: it is trained by ``scratch_language``; the rest of this docstring is images).
It is idempotent: the child's weights and batches come from ``seed`` alone, under a forked RNG
(the caller's random state is left as it was), so the same job gives the same reward on the same
device and thread count (not on CUDA, whose convolutions are not bit-exact, nor when ``seconds``
decides how many epochs run).

Training reuses final training's epoch loop (``training.loop.FinalLoop``: SGD with Nesterov
momentum, cosine learning rate to 0 over the child's epochs, gradient clipping, the validation
split after every epoch), without ScheduledDropPath, cutout, auxiliary head or label smoothing.
``valid_accuracy`` is the best validation accuracy of the child's last ``LAST_EPOCHS`` epochs (NAS-RL's
reward is that maximum, cubed); ``reward`` is it, or its cube with ``cube_reward``. The loop polls
``JobHooks.should_stop`` between minibatches (a cancel never waits for a child) and reports the
child's progress through ``JobHooks.on_progress``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch

from searchcore.evaluators.data_ref import load_referenced
from searchcore.evaluators.executor import Job, JobCancelled, JobHooks, Metrics, register_job_runner
from searchcore.evaluators.scratch_language import language_metrics, train_language_child
from searchcore.events import Emitter, Event
from searchcore.spaces.base import LANGUAGE
from searchcore.training.io import build_child
from searchcore.training.loop import FinalLoop, LoopOutcome, LoopSettings

logger = logging.getLogger(__name__)

LAST_EPOCHS = 5  # NAS-RL: the reward is the best validation accuracy of the last 5 epochs
GRAD_CLIP = 5.0
VALID_BATCH = 256


@dataclass(frozen=True)
class ChildSettings:
    """Everything a child job needs besides its architecture (``Job.settings``, JSON)."""

    space_options: dict[str, Any]
    data: dict[str, Any]  # ``evaluators.data_ref.data_reference``
    seed: int
    device: str = "cpu"
    epochs: int | None = 5  # with ``seconds`` too: whichever ends first
    seconds: float | None = None
    batch_size: int = 64
    lr: float = 0.05
    weight_decay: float = 1e-4
    augment: bool = True
    cube_reward: bool = False

    def __post_init__(self) -> None:
        if self.epochs is None and self.seconds is None:
            raise ValueError("a scratch child needs a number of epochs or of seconds")
        if (self.epochs is not None and self.epochs < 1) or (self.seconds is not None and self.seconds <= 0):
            raise ValueError("a scratch child's epochs and seconds must be positive")
        if self.batch_size < 1:
            raise ValueError("a scratch child's batch_size must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChildSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown scratch job setting(s): {', '.join(unknown)}")
        return cls(**data)


class _ProgressOnly:
    """Event sink of the child's loop: its ``progress`` fraction goes to the job's hooks, the
    rest (the child's own epochs) stays inside the job."""

    def __init__(self, hooks: JobHooks) -> None:
        self.hooks = hooks

    def emit(self, event: Event) -> None:
        if event.type == "progress":
            self.hooks.on_progress(float(event.payload.get("fraction") or 0.0))


@register_job_runner("scratch")
def run_scratch_job(job: Job, hooks: JobHooks | None = None) -> Metrics:
    """Train ``job.arch`` from scratch as ``job.settings`` say; ``JobCancelled`` on a stop."""
    hooks = hooks or JobHooks()
    settings = ChildSettings.from_dict(job.settings)
    data = load_referenced(settings.data)
    device = torch.device(settings.device)
    language = settings.data.get("kind") == LANGUAGE
    started = time.perf_counter()
    with torch.random.fork_rng(devices=_cuda_devices(device)):
        torch.manual_seed(settings.seed)
        model = build_child(job.arch, settings.space_options, data.task(), {}).to(device)
        if language:
            outcome = train_language_child(model, data, settings, device, Emitter(_ProgressOnly(hooks)),
                                           hooks.should_stop)
        else:
            outcome = _train(model, data, settings, device, hooks)
    if outcome.status == "cancelled":
        raise JobCancelled
    metrics = language_metrics(outcome, LAST_EPOCHS) if language else _image_metrics(outcome, settings)
    seconds = time.perf_counter() - started
    logger.info("scratch child %s: %s after %s epoch(s), %.1f s", job.arch.get("space"),
                ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()), outcome.epochs_run, seconds)
    return {**metrics, "seconds": round(seconds, 3), "epochs": float(outcome.epochs_run)}


def _image_metrics(outcome: LoopOutcome, settings: ChildSettings) -> dict[str, float]:
    accuracy = last_epochs_accuracy(outcome)
    return {"reward": accuracy ** 3 if settings.cube_reward else accuracy, "valid_accuracy": accuracy}


def last_epochs_accuracy(outcome: LoopOutcome) -> float:
    """The best validation accuracy of the last ``LAST_EPOCHS`` epochs trained."""
    values = [row["valid_accuracy"] for row in outcome.history[-LAST_EPOCHS:]
              if row["valid_accuracy"] is not None]
    if not values:
        raise ValueError("the scratch child was not validated: the dataset has no validation images")
    return float(max(values))


def _train(model: torch.nn.Module, data: Any, settings: ChildSettings, device: torch.device,
           hooks: JobHooks) -> LoopOutcome:
    from searchcore.data import BatchLoader

    generator = torch.Generator().manual_seed(settings.seed)
    common = {"mean": data.mean, "std": data.std, "device": device}
    batch = settings.batch_size
    train = BatchLoader(data.train, batch, shuffle=True, augment=settings.augment, generator=generator,
                        drop_last=len(data.train.labels) > batch, **common)  # no 1-image BatchNorm batch
    valid = BatchLoader(data.valid, max(batch, VALID_BATCH), shuffle=False, augment=False,
                        generator=generator, **common)
    deadline = None if settings.seconds is None else time.monotonic() + settings.seconds
    loop_settings = LoopSettings(lr=settings.lr, epochs=settings.epochs, deadline=deadline, drop_path=0.0,
                                 cutout=0, aux_weight=0.0, label_smoothing=0.0, grad_clip=GRAD_CLIP,
                                 weight_decay=settings.weight_decay, autocast=device.type == "cuda")
    loop = FinalLoop(model, train, valid, len(train), loop_settings, Emitter(_ProgressOnly(hooks)),
                     hooks.should_stop, generator)
    return loop.run()


def _cuda_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


__all__ = ["LAST_EPOCHS", "ChildSettings", "last_epochs_accuracy", "run_scratch_job"]
