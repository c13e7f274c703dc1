"""Evaluator ``scratch``: every child built standalone and trained from scratch (NAS-RL, NASNet).

Zoph & Le (2017) and Zoph et al. (2018) train each sampled child network on its own and reward
the controller with its validation accuracy (NAS-RL: cubed, the best of the last 5 epochs);
``m`` children are trained per controller update (``suggested_samples_per_update``, or the
search's ``archs_per_step``). Here a child trains for ``child_epochs`` and/or ``child_seconds``
(whichever ends first; only ``child_seconds`` set: seconds only; neither: ``DEFAULT_CHILD_EPOCHS``;
SGD + cosine, no auxiliary head, see ``scratch_job``). Slow but exact: no
weight sharing, so it serves any image or language space (``needs_supernet = False``). A language
child (NAS-RL's PTB protocol) trains by truncated BPTT with the language final-training loop and
scores ``80 / validation perplexity`` as the ``shared`` language evaluator (``scratch_language``);
its learning rate and weight decay, when left at the image defaults, are ENAS'/AWD-LSTM's (20,
1.2e-6), ``augment`` does not apply and ``cube_reward`` (which cubes an accuracy) is refused.

Each child is a self-contained job (architecture JSON + ``ChildSettings``: space options, a data
reference, seed, device) sent to ``context.executor``: in process by default, where the job
reuses the search's loaded data (``data_ref.remember``); a Celery executor may run it on a worker,
which loads the data from the reference. ``trains_weights = False``: the search loop has no
weight-training pass and ``max_archs`` counts distinct architectures.

A repeated architecture is not trained again: the scores so far are kept (and checkpointed,
``state_dict``), so a resumed search, the best architecture seen and derive's candidates that were
already sampled cost nothing. A child's score is already a full one (the whole validation split),
so derive trains only the controller's greedy choice (``max_derive_samples = 0``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from searchcore.evaluators import register_evaluator
from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.evaluators.data_ref import remember
from searchcore.evaluators.executor import Job, Metrics, Ticket
from searchcore.evaluators.scratch_job import ChildSettings
from searchcore.evaluators.scratch_language import LR as LANGUAGE_LR
from searchcore.evaluators.scratch_language import WEIGHT_DECAY as LANGUAGE_WEIGHT_DECAY
from searchcore.schema import Option, Schema
from searchcore.spaces.base import IMAGE, LANGUAGE

logger = logging.getLogger(__name__)

DEFAULT_CHILD_EPOCHS = 5  # when neither child_epochs nor child_seconds is given
IMAGE_LR, IMAGE_WEIGHT_DECAY = 0.05, 1e-4

SCHEMA = Schema("scratch evaluator", (
    Option("child_epochs", "int", DEFAULT_CHILD_EPOCHS,
           "epochs each child is trained from scratch (empty: child_seconds only)",
           minimum=1, maximum=1000, nullable=True),
    Option("child_seconds", "float", None,
           "seconds each child is trained at most (empty: planned from a time budget when neither this "
           "nor child_epochs is set, else child_epochs only)", minimum=1.0, maximum=86_400.0, nullable=True),
    Option("batch_size", "int", None, "images (language: token columns) per training step of a child "
           "(empty: the search's)", minimum=1, maximum=4096, nullable=True),
    Option("lr", "float", IMAGE_LR, "a child's peak SGD learning rate (cosine to 0); a language space's "
           f"default is ENAS' {LANGUAGE_LR:g}", minimum=1e-6, maximum=100.0),
    Option("weight_decay", "float", IMAGE_WEIGHT_DECAY, "a child's L2 weight decay; a language space's "
           f"default is {LANGUAGE_WEIGHT_DECAY:g}", minimum=0.0, maximum=0.1),
    Option("augment", "bool", True, "random crop and flip of a child's training images"),
    Option("cube_reward", "bool", False, "reward = validation accuracy cubed (NAS-RL; images only)"),
))


class ScratchEvaluator(Evaluator):
    name = "scratch"
    trains_weights = False
    needs_supernet = False
    summary: ClassVar[str] = ("Each child trained from scratch (NAS-RL, NASNet): reward = its validation "
                              "accuracy (language: 80 / perplexity). Exact but slow: minutes per child on a "
                              "CPU.")
    schema: ClassVar[Schema] = SCHEMA
    task_kinds: ClassVar[frozenset[str]] = frozenset({IMAGE, LANGUAGE})
    suggested_samples_per_update: ClassVar[int] = 4  # m children per update (NAS-RL: 8 per replica)
    max_derive_samples: ClassVar[int | None] = 0  # rewards are full scores: derive trains the greedy only

    def __init__(self, context: EvaluatorContext, *, child_epochs: int | None = None,
                 child_seconds: float | None = None, batch_size: int | None = None, lr: float | None = None,
                 weight_decay: float | None = None, augment: bool = True, cube_reward: bool = False) -> None:
        language = context.space.task_kind == LANGUAGE
        _check_data(context.data, language, cube_reward)
        if lr is None:
            lr = LANGUAGE_LR if language else IMAGE_LR
        if weight_decay is None:
            weight_decay = LANGUAGE_WEIGHT_DECAY if language else IMAGE_WEIGHT_DECAY
        data = context.data
        if context.data_ref is None:
            raise ValueError("the scratch evaluator needs the dataset's reference "
                             "(EvaluatorContext.data_ref) so that each child's job can load it")
        if child_epochs is None and child_seconds is None:  # the registry drops options set to None
            child_epochs = DEFAULT_CHILD_EPOCHS
        self.context = context
        # the space's options as JSON (tuples become lists)
        options = json.loads(json.dumps(dataclasses.asdict(context.space.options)))
        self.settings = ChildSettings(
            space_options=options, data=dict(context.data_ref), seed=context.seed, device=str(context.device),
            epochs=child_epochs, seconds=child_seconds, batch_size=batch_size or context.batch_size, lr=lr,
            weight_decay=weight_decay, augment=augment, cube_reward=cube_reward)
        remember(context.data_ref, data)  # the jobs run here reuse the loaded data
        self.scored: dict[str, Metrics] = {}  # canonical arch JSON hash -> the child's metrics

    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        return EpochStats(loss=None, accuracy=None, steps=0)

    def submit(self, archs: Sequence[Any], full: bool = False) -> Ticket:
        """One job per architecture not scored yet (a child's score is always a full one)."""
        jsons = [self._arch_json(arch) for arch in archs]
        keys = [arch_hash(j) for j in jsons]
        todo = {k: j for k, j in zip(keys, jsons, strict=True) if k not in self.scored}
        settings = self.settings.to_dict()
        jobs = [Job(self.name, arch_json, settings) for arch_json in todo.values()]
        inner = self.context.executor.submit(jobs) if jobs else None
        return Ticket(size=len(archs), handle=(inner, keys, list(todo)))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[float] | None:
        inner, keys, todo = ticket.handle
        if todo:
            metrics = self.context.executor.wait(inner, should_stop, self.context.on_score)
            if metrics is None:
                return None
            for key, child in zip(todo, metrics, strict=True):
                self.scored[key] = {name: float(value) for name, value in child.items()}
        return [self.scored[key]["reward"] for key in keys]

    def metrics_of(self, arch: Any) -> Metrics | None:
        """What the child of ``arch`` scored (``None``: not trained yet)."""
        return self.scored.get(arch_hash(self._arch_json(arch)))

    def _arch_json(self, arch: Any) -> dict[str, Any]:
        space = self.context.space
        if isinstance(arch, dict):
            arch = space.arch_from_json(arch)
        return space.arch_to_json(arch)

    def state_dict(self) -> dict[str, Any]:
        return {"scored": json.dumps(self.scored, sort_keys=True)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scored = json.loads(state.get("scored") or "{}")


def _check_data(data: Any, language: bool, cube_reward: bool) -> None:
    """A clear refusal of data the children cannot train on (nothing is built yet)."""
    if language:
        if data is None or not hasattr(data, "corpus"):
            raise ValueError("the scratch evaluator needs a text corpus for a language space")
        if data.train.numel() < 2 or data.valid.numel() < 2:
            raise ValueError("the scratch evaluator needs at least 2 tokens in both the train and the "
                             "validation split")
        if cube_reward:
            raise ValueError("cube_reward cubes a validation accuracy (images); a language child's reward "
                             "is 80 / validation perplexity")
        return
    if data is None or not hasattr(data, "train") or hasattr(data, "corpus"):
        raise ValueError("the scratch evaluator needs an image dataset")
    if len(data.train.labels) == 0 or len(data.valid.labels) == 0:
        raise ValueError("the scratch evaluator needs images in both the train and the validation split")


def arch_hash(arch_json: dict[str, Any]) -> str:
    """A short stable key of an architecture's canonical JSON."""
    return hashlib.blake2b(json.dumps(arch_json, sort_keys=True).encode(), digest_size=12).hexdigest()


@register_evaluator("scratch")
def scratch_evaluator(context: EvaluatorContext, **options: Any) -> ScratchEvaluator:
    """``create_evaluator("scratch", context=ctx, child_epochs=5, cube_reward=True, ...)``."""
    return ScratchEvaluator(context, **options)


scratch_evaluator.evaluator_class = ScratchEvaluator  # type: ignore[attr-defined]

__all__ = ["SCHEMA", "ScratchEvaluator", "arch_hash", "scratch_evaluator"]
