"""Final training: train the derived architecture (from scratch, or from the search's supernet
weights: ``training.inherit``), evaluate it on the test split.

Recipe (DARTS/ENAS final training): SGD, momentum 0.9, Nesterov, weight decay 3e-4, cosine LR
from ``lr`` to 0, ScheduledDropPath, optional cutout and auxiliary-head loss (weight 0.4),
gradient-norm clip 5, no label smoothing by default. The weights kept are the best on the
validation split (the last epoch's when there is no validation split); the test split is used
exactly once, at the end, in float32. Budget rules are in ``training.loop``. What depends on the
task kind (data, batches, loss, metrics, samples) is the kind's trainer (``training.trainers``).

Writes to ``out_dir``: ``model.pt`` (``state_dict``), ``architecture.json``, ``preprocessing.json``
(what ``predict.py`` needs to reproduce the input pipeline), ``metrics.json``,
``train_config.json``, ``test_samples.safetensors`` (a few test images for the export check) and
``events.jsonl`` (also forwarded to the caller's sink, numbered after ``first_seq``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from searchcore.device import resolve_device, seed_everything
from searchcore.events import Emitter, EventSink, FanoutSink, JsonlSink
from searchcore.spaces import space_class
from searchcore.training.child import prepare_child
from searchcore.training.footprint import footprint
from searchcore.training.image import NUM_VERIFY_SAMPLES, TEST_DATA_SPLIT, preprocessing_of
from searchcore.training.io import resolve_architecture, write_json
from searchcore.training.loop import LoopOutcome, LoopSettings
from searchcore.training.settings import INITS, final_schema
from searchcore.training.trainers import trainer_for, trainer_kinds
from searchcore.training.verdict import validation_verdict

logger = logging.getLogger(__name__)

__all__ = ["NUM_VERIFY_SAMPLES", "TEST_DATA_SPLIT", "FinalConfig", "FinalResult", "for_kind",
           "preprocessing_of", "train_final"]


@dataclass(frozen=True)
class FinalConfig:
    arch: dict[str, Any]  # a search's result.json (parsed) or a bare architecture JSON with "space"
    data: str  # the task's data: an image zip (image spaces) or a text corpus (language spaces)
    budget_seconds: float | None = None
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int | None = None  # None: planned from the budget (searchcore.planning), else 64
    plan: bool = True  # with a time budget, choose the child's size and batch from measured costs
    init: str = "auto"  # first weights: scratch | supernet (fine-tune) | auto (training.inherit)
    supernet: str | None = None  # the search folder whose supernet "supernet"/"auto" start from
    # None: the task kind's default (its trainer's ``final_schema``: image 0.05 / 3e-4 / 5, language
    # ENAS' 20 / 1.2e-6 / 0.25), filled in by ``train_final`` before anything is built
    lr: float | None = None
    weight_decay: float | None = None
    channels: int | None = None  # build_child overrides: None means "the space's default"
    cells_per_stage: int | None = None
    layers: int | None = None
    drop_path: float = 0.1  # maximum of the linear ScheduledDropPath ramp
    cutout: int = 0  # side of the cutout square in pixels; 0 = off
    aux_head: bool = False
    aux_weight: float = 0.4
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    # language models only (``training.language_settings``): BPTT window, the final child's width and
    # dropouts (None: the searched space's options); an image run refuses them when set
    bptt: int | None = None
    hidden_size: int | None = None
    dropout_words: float | None = None
    dropout_embedding: float | None = None
    dropout_hidden: float | None = None
    dropout_output: float | None = None
    image_size: int | None = None  # None: the dataset's native input (searchcore.data.native)
    grayscale: bool | None = None
    space_options: dict[str, Any] = field(default_factory=dict)  # overrides those found in ``arch``
    max_images: int | None = None
    channels_last: bool = True  # measured 1.3-2.5x faster training steps on CPU (nb201, enas-micro)
    # A separate image zip that is the whole test set (same class names as ``data``); ``data`` is
    # then split train/valid only (TEST_DATA_SPLIT). None: ``data``'s own 80/10/10 test split.
    test_data: str | None = None

    def __post_init__(self) -> None:
        if self.budget_seconds is None and self.epochs is None:
            raise ValueError("give a budget: time (budget_seconds) or epochs")
        if self.budget_seconds is not None and self.budget_seconds <= 0:
            raise ValueError("budget_seconds must be positive")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        for name in ("epochs", "batch_size", "image_size", "channels", "cells_per_stage", "layers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0.0 <= self.drop_path < 1.0:
            raise ValueError("drop_path must be in [0, 1)")
        if self.cutout < 0 or (self.lr is not None and self.lr <= 0):
            raise ValueError("cutout must be >= 0 and lr > 0")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, not {self.init!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinalConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class FinalResult:
    status: str  # succeeded | cancelled
    out_dir: str
    test_accuracy: float | None  # fraction 0..1; None when cancelled
    best_valid_accuracy: float | None
    best_epoch: int | None
    epochs_run: int
    elapsed_seconds: float
    last_seq: int
    metrics: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_final(config: FinalConfig, out_dir: str | Path, *, sink: EventSink | None = None,
                should_stop: Callable[[], bool] | None = None, first_seq: int = 0) -> FinalResult:
    """Train ``config.arch`` on ``config.data`` and write the training directory.

    The trainer (data, batches, loss, metrics) is the one of the architecture's space's task kind.
    """
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = JsonlSink(out / "events.jsonl")
    jsonl.truncate_after(first_seq)  # a rerun (redelivered task) must not duplicate its events
    emitter = Emitter(FanoutSink(jsonl, sink) if sink is not None else jsonl, last_seq=first_seq)
    deadline = started + config.budget_seconds if config.budget_seconds else None
    arch, space_options = resolve_architecture(config.arch)
    space_options = {**space_options, **config.space_options}
    trainer = trainer_for(space_class(arch["space"]).task_kind)
    config = for_kind(config, trainer.kind)
    device = resolve_device(config.device)
    generator = seed_everything(config.seed)
    message = f"final training of a {arch['space']} child on {device}"
    emitter.emit("status", status="training", message=message)

    data = trainer.load_data(config)
    config, child, space_options, overrides = prepare_child(config, arch, space_options, data, device,
                                                            emitter)
    model = trainer.prepare_model(child.to(device), config)
    _write_inputs(out, config, arch, space_options, overrides, trainer.preprocessing(data, config))

    loop = trainer.make_loop(model, config, data, device, generator, _settings(config, device, deadline),
                             emitter, should_stop or (lambda: False))
    outcome = loop.run()
    if outcome.status == "cancelled":
        emitter.emit("status", status="cancelled", message="final training cancelled")
        return _result(out, outcome, None, started, emitter)
    loop.restore(outcome.best_state)
    metrics = {**trainer.evaluate(model, config, data, device), **_outcome_metrics(outcome, device)}
    metrics.update(footprint(model, data.task()))  # params, CPU latency per image: the comparison page
    judge = getattr(trainer, "verdict", None)  # a kind's own rule (language: perplexity vs unigram)
    verdict = (judge(metrics, data) if judge is not None  # else: is it clearly above chance?
               else validation_verdict(outcome.best_valid_accuracy, data))
    if verdict is not None:
        metrics["verdict"] = verdict
    metrics["elapsed_seconds"] = round(time.monotonic() - started, 3)
    _write_outputs(out, model, metrics)
    trainer.write_samples(out, data)
    emitter.emit("evaluation", metrics=metrics)
    return _result(out, outcome, metrics, started, emitter)


def for_kind(config: FinalConfig, kind: str) -> FinalConfig:
    """``config`` with the kind's defaults where it says None, after refusing (``ValueError``) any
    setting of another kind that was changed from ``FinalConfig``'s default: a language model is
    never trained with an image knob silently ignored or swapped, nor the other way round."""
    own = final_schema(kind)
    defaults = {f.name: f.default for f in fields(FinalConfig)}
    foreign = sorted(name for other in trainer_kinds() if other != kind
                     for name in final_schema(other).names()
                     if name not in own.names() and getattr(config, name) != defaults[name])
    if foreign:
        article = "an" if kind[:1] in "aeiou" else "a"
        raise ValueError(f"{', '.join(dict.fromkeys(foreign))}: not a setting of {article} {kind} model's "
                         f"final training (it takes {', '.join(own.names())})")
    filled = {name: own[name].default for name in own.names()
              if getattr(config, name, 0) is None and own[name].default is not None and name in defaults
              and name not in ("batch_size", "budget_seconds", "epochs")}
    return replace(config, **filled) if filled else config


def _load_data(config: FinalConfig) -> Any:
    """The data of ``config`` as its architecture's trainer loads it."""
    arch, _ = resolve_architecture(config.arch)
    return trainer_for(space_class(arch["space"]).task_kind).load_data(config)


def _settings(config: FinalConfig, device: torch.device, deadline: float | None) -> LoopSettings:
    return LoopSettings(lr=config.lr, epochs=config.epochs, deadline=deadline, drop_path=config.drop_path,
                        cutout=config.cutout, aux_weight=config.aux_weight,
                        label_smoothing=config.label_smoothing, grad_clip=config.grad_clip,
                        weight_decay=config.weight_decay, autocast=device.type == "cuda")


def _outcome_metrics(outcome: LoopOutcome, device: torch.device) -> dict[str, Any]:
    return {
        "best_valid_accuracy": outcome.best_valid_accuracy,
        "best_epoch": outcome.best_epoch,
        "weights": "best_valid" if outcome.best_valid_accuracy is not None else "last",
        "epochs_run": outcome.epochs_run,
        "epochs_planned": outcome.epochs_planned,
        "device": str(device),
        "history": outcome.history,
    }


def _write_inputs(out: Path, config: FinalConfig, arch: dict[str, Any], space_options: dict[str, Any],
                  overrides: dict[str, Any], preprocessing: dict[str, Any]) -> None:
    write_json(out / "architecture.json", arch)
    write_json(out / "preprocessing.json", preprocessing)
    cfg = {**config.to_dict(), "arch": arch, "space_options": space_options, "child_overrides": overrides}
    write_json(out / "train_config.json", cfg)


def _write_outputs(out: Path, model: torch.nn.Module, metrics: dict[str, Any]) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = out / "model.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(out / "model.pt")
    write_json(out / "metrics.json", metrics)


def _result(out: Path, outcome: LoopOutcome, metrics: dict[str, Any] | None, started: float,
            emitter: Emitter) -> FinalResult:
    return FinalResult(status=outcome.status, out_dir=str(out),
                       test_accuracy=None if metrics is None else metrics.get("test_accuracy"),
                       best_valid_accuracy=outcome.best_valid_accuracy, best_epoch=outcome.best_epoch,
                       epochs_run=outcome.epochs_run, elapsed_seconds=round(time.monotonic() - started, 3),
                       last_seq=emitter.last_seq, metrics=metrics)
