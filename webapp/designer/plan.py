"""What the budget buys, shown in the designer before Start (issue 7, item 1).

The same planner a run uses at its start (``searchcore.planning``), measured on this server's CPU
with the chosen dataset's split sizes and native input: the search proxy (epochs, controller
steps) for the search budget (for children trained from scratch: controller steps, the children's
size and epochs, counted in images or in a corpus's sequences) and the final child (epochs) for the
final budget, each with a warning and the smallest budget that would do when it is too small. A
language search on a shared supernet and its final child are planned by
``searchcore.planning.language`` (hidden size, token streams, passes over the corpus's tokens).
A worker on another device plans again when the run starts; the live page shows that plan.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from searchcore.compat import needs_dataset
from searchcore.config import SearchConfig
from searchcore.data.tasks import DEFAULT_SEQ_LEN
from searchcore.evaluators import evaluator_class
from searchcore.planning import default_measure, plan_final, plan_search
from searchcore.planning.apply import trains_children
from searchcore.planning.children import median_measure, plan_children, typical_children
from searchcore.planning.ladder import child_ladder, proxy_ladder
from searchcore.planning.language import plan_language_final, plan_language_search
from searchcore.spaces import TaskSpec, create_space, space_class
from searchcore.spaces.base import IMAGE, LANGUAGE

DEFAULT_TRAIN, DEFAULT_VALID = 8000, 1000  # no dataset chosen yet: a typical small upload
DEFAULT_TRAIN_TOKENS, DEFAULT_VOCAB = 2_000_000, 10_000  # no corpus chosen yet: about WikiText-2
_DEFAULTS = SearchConfig.__dataclass_fields__  # what a run that sets nothing uses
NOT_PLANNED: dict[str, str] = {}  # kind -> why its budgets are not planned (image and language are)
MEASURE_THREADS = 1  # see searchcore.planning.costs: robust when a search shares the machine


def designer_plan(space: str, options: dict[str, Any], task: TaskSpec, *, evaluator: str,
                  sizes: tuple[int, int] | None, search_seconds: float | None,
                  final_seconds: float | None) -> dict[str, Any]:
    """``{"search": plan | None, "final": plan | None, "assumed_sizes": bool}`` (plans as dicts)."""
    kind = space_class(space).task_kind
    planned = kind == IMAGE and needs_dataset(evaluator)
    train, valid = sizes or (DEFAULT_TRAIN, DEFAULT_VALID)
    out: dict[str, Any] = {"search": None, "final": None, "assumed_sizes": sizes is None,
                           "train_size": train}
    if kind == LANGUAGE and needs_dataset(evaluator):
        return {**out, **_language_plan(space, options, task, evaluator, sizes, search_seconds,
                                         final_seconds)}
    if kind != IMAGE:  # said plainly, not an empty box
        out["note"] = NOT_PLANNED.get(kind, f"Budgets of {kind} searches are not planned yet.")
    if not planned:
        return out
    if search_seconds and evaluator_class(evaluator).trains_weights and proxy_ladder(space):
        out["search"] = plan_search(space, options, task, train_size=train, valid_size=valid,
                                    budget_seconds=search_seconds, batch_size=None,
                                    controller_steps_per_epoch=_DEFAULTS["controller_steps_per_epoch"].default,
                                    derive_samples=_DEFAULTS["derive_samples"].default,
                                    measure=default_measure("cpu", threads=MEASURE_THREADS)).to_dict()
    elif search_seconds and trains_children(evaluator) and proxy_ladder(space):
        out["search"] = _children_plan(space, options, task, evaluator, (train, valid), search_seconds)
    if final_seconds and child_ladder(space):
        arch = _typical_arch(space, options)
        out["final"] = plan_final(space, options, task, train_size=train, valid_size=valid,
                                  budget_seconds=final_seconds, batch_size=None, given={},
                                  measure=default_measure("cpu", arch, threads=MEASURE_THREADS)).to_dict()
    return out


def _language_plan(space: str, options: dict[str, Any], task: TaskSpec, evaluator: str,
                   sizes: tuple[int, int] | None, search_seconds: float | None,
                   final_seconds: float | None) -> dict[str, Any]:
    """A language search (shared supernet) and its final child (``searchcore.planning.language``);
    ``sizes`` are the corpus's sequences of ``task.seq_len`` tokens (``designer.data.split_sizes``)."""
    if task.kind != LANGUAGE:  # no corpus chosen: a WikiText-2-like vocabulary
        task = TaskSpec.language(DEFAULT_VOCAB, DEFAULT_SEQ_LEN)
    train, valid = ((sizes[0] * task.seq_len, sizes[1] * task.seq_len) if sizes
                    else (DEFAULT_TRAIN_TOKENS, DEFAULT_TRAIN_TOKENS // 10))
    out: dict[str, Any] = {"train_tokens": train}
    if sizes is None:
        out["note"] = f"No corpus chosen: assumes {train:,} training tokens and a 10,000-word vocabulary."
    measure = default_measure("cpu", threads=MEASURE_THREADS)
    if search_seconds and evaluator_class(evaluator).trains_weights:
        out["search"] = plan_language_search(
            space, options, task, train_tokens=train, valid_tokens=valid, budget_seconds=search_seconds,
            batch_size=None, controller_steps_per_epoch=_DEFAULTS["controller_steps_per_epoch"].default,
            derive_samples=_DEFAULTS["derive_samples"].default, measure=measure).to_dict()
    elif search_seconds and trains_children(evaluator):  # examples: the corpus's seq_len-token sequences
        examples = (train // task.seq_len, valid // task.seq_len)
        out["search"] = _children_plan(space, options, task, evaluator, examples, search_seconds)
    if final_seconds:
        arch = _typical_arch(space, options)
        out["final"] = plan_language_final(space, options, task, train_tokens=train, valid_tokens=valid,
                                           budget_seconds=final_seconds, batch_size=None, given={},
                                           measure=default_measure("cpu", arch, threads=MEASURE_THREADS)
                                           ).to_dict()
    return out


def _children_plan(space: str, options: dict[str, Any], task: TaskSpec, evaluator: str,
                   sizes: tuple[int, int], search_seconds: float) -> dict[str, Any]:
    """``planning.children``'s plan of a search whose children train from scratch (NAS-RL's protocol),
    costed as the median of a few typical children measured here."""
    cls = evaluator_class(evaluator)
    return plan_children(space, options, task, train_size=sizes[0], valid_size=sizes[1],
                         budget_seconds=search_seconds, batch_size=None,
                         children_per_step=cls.suggested_samples_per_update,
                         child_epochs=int(cls.schema.defaults()["child_epochs"]),
                         measure=median_measure([default_measure("cpu", arch, threads=MEASURE_THREADS)
                                                 for arch in typical_children(space, options)])).to_dict()


def _typical_arch(space: str, options: dict[str, Any]) -> dict[str, Any]:
    """A seeded random architecture of the space (the derived one is not known before the search)."""
    instance = create_space(space, **options)
    arch = instance.sample_random(torch.Generator().manual_seed(0))
    return json.loads(json.dumps({"space": space, **instance.arch_to_json(arch)}))
