"""One frozen dataclass per event type: its fields are the payload contract.

A field declared with ``required`` is always in the payload (its type may still allow ``None``, e.g.
``valid_accuracy`` without a validation split); one declared with ``optional`` is left out of the
payload while it is ``None``, unless it is tied to another field (``present_with``) that is written.
Each field's ``doc`` and the class docstring are the documentation: ``docs/events.md`` and
``frontend/static/js/event_types.json`` are generated from them (``searchcore.events.catalogue``).

JSON has no NaN or infinity: the emitter writes them as ``null`` (``json_safe``), and reading a
payload back gives ``math.nan`` for a ``null`` in a float field that does not allow ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, ClassVar, Literal, TypeVar

from searchcore.events._check import check_value, is_float_hint, resolved_hints

D = TypeVar("D", bound="EventData")


def required(doc: str, example: Any = MISSING) -> Any:
    """A field every payload of the type carries."""
    return field(metadata=_meta(doc, example))


def optional(doc: str, *, present_with: str | None = None, example: Any = MISSING) -> Any:
    """A field only some payloads carry (``None`` = absent, unless ``present_with`` is written)."""
    return field(default=None, metadata=_meta(doc, example, optional=True, present_with=present_with))


def _meta(doc: str, example: Any, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc": doc, "optional": False, "present_with": None, **extra}
    if example is not MISSING:
        meta["example"] = example
    return meta


@dataclass(frozen=True, kw_only=True)
class EventData:
    """Base of the typed payloads; ``type`` is the wire name of the event type."""

    type: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = resolved_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and is_optional(f):
                continue
            check_value(self.type, f.name, value, hints[f.name])

    def to_payload(self) -> dict[str, Any]:
        """The payload dict as stored and sent (NaN still in it: ``Emitter`` makes it JSON-safe)."""
        written: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            partner = f.metadata.get("present_with")
            if value is None and is_optional(f) and (partner is None or getattr(self, partner) is None):
                continue
            written[f.name] = value
        return written

    @classmethod
    def from_payload(cls: type[D], payload: Mapping[str, Any]) -> D:
        """Build from a payload dict; an unknown key or a missing required field is a ``TypeError``
        naming the event type and the field."""
        declared = {f.name: f for f in fields(cls)}
        unknown = sorted(set(payload) - set(declared))
        if unknown:
            raise TypeError(f"{cls.type} event: unknown field {unknown[0]!r} "
                            f"(fields: {', '.join(declared)})")
        missing = [name for name, f in declared.items() if not is_optional(f) and name not in payload]
        if missing:
            raise TypeError(f"{cls.type} event: missing required field {missing[0]!r}")
        hints = resolved_hints(cls)
        values = {name: _from_json(value, hints[name], declared[name]) for name, value in payload.items()}
        return cls(**values)


def is_optional(f: Field[Any]) -> bool:
    return bool(f.metadata.get("optional"))


def _from_json(value: Any, hint: Any, f: Field[Any]) -> Any:
    """``null`` in a float field that does not allow ``None`` was a NaN/infinity: read it as NaN."""
    if value is None and not is_optional(f) and is_float_hint(hint, allow_none=False):
        return float("nan")
    return value


# -- the event types ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Status(EventData):
    """A stage of the run began or ended (search loop, final training, worker)."""

    type: ClassVar[str] = "status"
    status: str = required(
        "`running` (search started), `deriving` (choosing the best on the whole validation split), "
        "`search_ended` (the caller continues the stream), `training` / `cancelled` (final training), "
        "`exporting` (worker, building the package), `paused` (worker shutting down: the search is queued "
        "again and resumes from its checkpoint)", example="running")
    message: str = required("what happened, in words", example="search started on cpu")
    resumed_after: int | None = optional(
        "with `running` after a resume: the checkpoint's last seq; later events were dropped and are "
        "emitted again, so a viewer replays", example=12)
    search_status: Literal["succeeded", "cancelled", "failed"] | None = optional(
        "with `search_ended`: how the search itself ended", example="succeeded")
    best: dict[str, Any] | None = optional(
        "with `search_ended`: `{architecture, reward}` of the best architecture, null if none",
        present_with="search_status", example={"architecture": {"space": "nb201"}, "reward": 0.91})


@dataclass(frozen=True, kw_only=True)
class Progress(EventData):
    """Throttled progress of the current stage (every few seconds, and at each epoch end)."""

    type: ClassVar[str] = "progress"
    phase: str = required("`setup`, `searching`, `deriving` or `final` (final training)", example="searching")
    fraction: float = required("share of the stage's budget used, 0..1", example=0.5)
    eta_seconds: float | None = required("the stage's estimated seconds left; null while unknown",
                                         example=20.0)
    epoch: int = required("epochs finished in the stage", example=3)
    archs_evaluated: int = required("architectures the search evaluated (0 in final training)", example=90)
    elapsed_seconds: float = required("seconds the stage has run", example=20.0)
    overall_fraction: float | None = optional(
        "added by the worker's sink: the whole run's share done, never going back", example=0.425)
    overall_eta_seconds: float | None = optional(
        "added by the worker's sink: seconds left in the whole run (later stages' budget included); "
        "null while unknown", present_with="overall_fraction", example=35.0)
    total_elapsed_seconds: float | None = optional(
        "added by the worker's sink: seconds the whole run has taken", example=20.0)


@dataclass(frozen=True, kw_only=True)
class ControllerStep(EventData):
    """One policy update of the controller (``ControllerStats`` plus the counters)."""

    type: ClassVar[str] = "controller_step"
    step: int = required("controller steps so far", example=7)
    archs_evaluated: int = required("architectures evaluated, as the budget counts them", example=7)
    reward: float = required("mean raw reward of the batch", example=0.62)
    baseline: float = required("EMA baseline after the update (the reward for controllers without one)",
                               example=0.55)
    entropy: float = required("mean policy entropy of the sampled batch (nats)", example=1.3)
    loss: float = required("the controller's loss", example=0.08)
    log_prob: float = required("mean log-probability of the sampled architectures", example=-9.2)
    best_reward: float | None = optional("the best reward seen so far", example=0.7)


@dataclass(frozen=True, kw_only=True)
class ChildTrain(EventData):
    """A search epoch of training the shared weights (shared-weights evaluators only)."""

    type: ClassVar[str] = "child_train"
    epoch: int = required("search epoch, from 1", example=2)
    loss: float | None = required("mean training loss; null if the epoch trained no step", example=1.7)
    accuracy: float | None = required("training accuracy; null if the epoch trained no step", example=0.41)
    valid_accuracy: float | None = required("mean controller reward of the epoch; null without steps",
                                            example=0.38)
    valid_perplexity: float | None = optional(
        "language search: validation perplexity of the supernet after the epoch (the epoch's last "
        "trained cell on the first validation windows, state carried; `evaluators.shared_language`)",
        example=412.5)
    baseline_perplexity: float | None = optional(
        "language search: perplexity of the training split's word frequencies on the same validation "
        "tokens (the unigram baseline, `training.lm_verdict`)", present_with="valid_perplexity",
        example=520.3)
    at_noise_level: bool | None = optional(
        "language search: `valid_perplexity` is not below 0.9 × `baseline_perplexity`, so the shared "
        "weights know only word frequencies and the rewards (80 / ppl) are noise",
        present_with="valid_perplexity", example=False)


_NB201_EXAMPLE = {"space": "nb201", "edges": ["nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3",
                                              "nor_conv_3x3", "none"]}


@dataclass(frozen=True, kw_only=True)
class _ArchEvent(EventData):
    step: int = required("controller step that sampled it", example=7)
    architecture: dict[str, Any] = required("the architecture as JSON (`space.arch_to_json`)",
                                            example=_NB201_EXAMPLE)
    reward: float = required("its reward (validation accuracy or benchmark score; with a latency target, "
                             "`accuracy × (latency_ms / target) ** w`)", example=0.62)
    graph: dict[str, Any] = required("drawable graph of its cells (`space.graph`)", example={"cells": []})
    accuracy: float | None = optional(
        "with a latency target (`latency_target_ms`): the evaluator's score before the latency term",
        example=0.64)
    latency_ms: float | None = optional(
        "with a latency target: milliseconds per image of its standalone child on the search's device "
        "(`searchcore.search.cost`)", example=3.2)


@dataclass(frozen=True, kw_only=True)
class ArchSampled(_ArchEvent):
    """The controller sampled and scored an architecture."""

    type: ClassVar[str] = "arch_sampled"


@dataclass(frozen=True, kw_only=True)
class Best(_ArchEvent):
    """A new best architecture (sampled, or chosen by deriving)."""

    type: ClassVar[str] = "best"
    derived: bool | None = optional("true for the one chosen by deriving on the whole validation split",
                                    example=True)
    degenerate: list[str] | None = optional(
        "why the architecture is degenerate (`space.degenerate_reasons`, e.g. only parameter-free "
        "operations): the search may have collapsed; `[]` when it is not", example=[])


@dataclass(frozen=True, kw_only=True)
class FinalEpoch(EventData):
    """An epoch of final training (from scratch, of the chosen architecture)."""

    type: ClassVar[str] = "final_epoch"
    epoch: int = required("epoch, from 1", example=4)
    epochs: int = required("epochs planned (re-planned after each epoch under a time budget)", example=10)
    loss: float | None = required("mean training loss; null if not finite", example=0.9)
    accuracy: float = required("training accuracy", example=0.7)
    valid_accuracy: float | None = required("validation accuracy; null without a validation split",
                                            example=0.66)
    lr: float = required("learning rate of the epoch's last step", example=0.02)
    valid_perplexity: float | None = optional(
        "language models: validation perplexity of the epoch (`accuracy`/`valid_accuracy` are then next-word "
        "accuracies)", example=85.3)


@dataclass(frozen=True, kw_only=True)
class Evaluation(EventData):
    """Test-set evaluation of the final model."""

    type: ClassVar[str] = "evaluation"
    metrics: dict[str, Any] = required(
        "test accuracy and loss, confusion matrix, per-class and macro P/R/F1, best epoch, history "
        "(the trainer of the task kind, e.g. `searchcore.training.image`)",
        example={"test_accuracy": 0.71, "test_loss": 0.88})


@dataclass(frozen=True, kw_only=True)
class Plan(EventData):
    """What the budget buys, decided at the start of a phase from step costs measured on its device."""

    type: ClassVar[str] = "plan"
    phase: Literal["search", "final"] = required("the phase planned", example="search")
    message: str = required("one sentence: what the budget buys, or how much more it needs",
                            example="This budget buys about 14 search epochs and 420 controller steps.")
    meaningful: bool = required("the budget buys the minimum epochs (and controller steps) to learn",
                                example=True)
    epochs: float = required("expected epochs within the phase's budget", example=14.2)
    minimum_budget_seconds: float = required("the smallest budget that buys the minimum", example=95.0)
    details: dict[str, Any] = required(
        "the whole plan: sizes chosen, batch, seconds per epoch, the sizes measured "
        "(`searchcore.planning.plan`)", example={"batch_size": 64, "seconds_per_epoch": 6.1})


@dataclass(frozen=True, kw_only=True)
class Log(EventData):
    """A line for the run's log (a failed search whose caller emits ``finished``)."""

    type: ClassVar[str] = "log"
    level: Literal["debug", "info", "warning", "error"] = required("severity", example="error")
    message: str = required("the line", example="RuntimeError: CUDA out of memory")


@dataclass(frozen=True, kw_only=True)
class Finished(EventData):
    """The run ended: the last event of a stream (from the search loop, or the worker after all stages)."""

    type: ClassVar[str] = "finished"
    status: Literal["succeeded", "failed", "cancelled"] = required("how the run ended", example="succeeded")
    message: str = required("why, in words", example="search finished: budget reached")
    best: dict[str, Any] | None = required("`{architecture, reward}` of the best architecture, null if none",
                                           example={"architecture": {"space": "nb201"}, "reward": 0.91})


@dataclass(frozen=True, kw_only=True)
class Child(EventData):
    """A fanned-out child (scratch evaluator on `children` workers) was queued, started, moved or ended."""

    type: ClassVar[str] = "child"
    step: int = required("the child's batch (one per controller step that sent new children), from 0",
                         example=3)
    index: int = required("the child's place in its batch, from 0", example=1)
    state: Literal["pending", "running", "done", "failed", "cancelled"] = required(
        "pending: queued for a worker; running; done (`reward` set); failed (`message`); cancelled",
        example="running")
    attempt: int = required("claims so far (a retry after its worker died adds one)", example=1)
    progress: float = required("share of the child's training done, 0..1", example=0.4)
    worker: str | None = optional("the Celery worker that runs (or ran) it", example="children1@gpu-box")
    reward: float | None = optional("its reward, when done", example=0.42)
    seconds: float | None = optional("its training seconds, when done", example=12.5)
    message: str | None = optional("why it failed or stopped", example="its worker stopped 3 times")


EVENT_CLASSES: dict[str, type[EventData]] = {cls.type: cls for cls in (
    Status, Progress, ControllerStep, ChildTrain, ArchSampled, Best, FinalEpoch, Evaluation, Plan, Log,
    Finished, Child)}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)


def event_class(type_: str) -> type[EventData]:
    try:
        return EVENT_CLASSES[type_]
    except KeyError:
        raise ValueError(f"unknown event type {type_!r} (known: {', '.join(EVENT_TYPES)})") from None


def event_data(type_: str, payload: Mapping[str, Any]) -> EventData:
    """The typed payload of an event of ``type_`` (validated)."""
    return event_class(type_).from_payload(payload)
