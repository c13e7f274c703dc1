"""Planning at the start of a run (search or final training): when to plan, and the
configuration a plan gives.

A search is planned when it has a time budget and no epoch count (an epoch budget says how much
to train already), its evaluator trains shared weights (``planner.plan_search``: the proxy) or
trains each child from scratch (``children.plan_children``: the children's size and time cap), and
the config asks for it (``plan``, default on). A language search on a shared supernet and a
language final child are planned by ``planning.language`` (hidden size and token streams). The
plan is written to ``plan.json`` in the search's folder at its first start and read back on a
resume, so a resumed search runs the very network its checkpoint holds.
The stored configuration is never changed: the plan fills only what the user left open (the
size options they did not give, a ``batch_size`` of ``None``). Final training is planned the
same way when it has a time budget and no epoch count, measuring the derived architecture's own
child; its plan is written into ``train_config.json`` with the sizes it gave.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from searchcore.config import SearchConfig
from searchcore.evaluators import evaluator_class
from searchcore.files import atomic_write_json
from searchcore.planning.children import example_counts, median_measure, plan_children, typical_children
from searchcore.planning.ladder import child_ladder
from searchcore.planning.language import plan_language_final, plan_language_search
from searchcore.planning.plan import FinalPlan, SearchPlan
from searchcore.planning.planner import Measure, default_measure, plan_final, plan_search
from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE, LANGUAGE

PLAN_NAME = "plan.json"
DEFAULT_SEARCH_BATCH = 64  # an unplanned search with no batch size given


def should_plan_search(config: SearchConfig) -> bool:
    cls = evaluator_class(config.evaluator)
    return (config.plan and config.budget_seconds is not None and config.max_epochs is None
            and (cls.trains_weights or trains_children(config.evaluator)) and cls.needs_dataset
            and (space_class(config.space).task_kind in (IMAGE, LANGUAGE)  # language: planning.language
                 or trains_children(config.evaluator)))


def trains_children(evaluator: str) -> bool:
    """Whether ``evaluator`` trains each child from scratch for a time it takes as ``child_seconds``
    (the ``scratch`` evaluator): its search is planned by ``planning.children``."""
    cls = evaluator_class(evaluator)
    return not cls.trains_weights and "child_seconds" in cls.schema.names()


def search_plan(config: SearchConfig, data: Any, device: str, out_dir: Path) -> SearchPlan | None:
    """The stored plan of this search folder, else a new one measured now (and stored)."""
    if not should_plan_search(config):
        return None
    path = out_dir / PLAN_NAME
    if path.exists():
        return SearchPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    if trains_children(config.evaluator):
        plan = children_plan(config, data, device)
        atomic_write_json(path, plan.to_dict())
        return plan
    if space_class(config.space).task_kind == LANGUAGE:  # a shared supernet: planning.language
        plan = plan_language_search(config.space, dict(config.space_options), data.task(),
                                    train_tokens=data.train.numel(), valid_tokens=data.valid.numel(),
                                    budget_seconds=float(config.budget_seconds), batch_size=config.batch_size,
                                    controller_steps_per_epoch=config.controller_steps_per_epoch,
                                    derive_samples=config.derive_samples, measure=lm_measure(device))
        atomic_write_json(path, plan.to_dict())
        return plan
    plan = plan_search(config.space, dict(config.space_options), data.task(),
                       train_size=len(data.train.labels), valid_size=len(data.valid.labels),
                       budget_seconds=float(config.budget_seconds), batch_size=config.batch_size,
                       controller_steps_per_epoch=config.controller_steps_per_epoch,
                       derive_samples=config.derive_samples, measure=default_measure(device))
    atomic_write_json(path, plan.to_dict())
    return plan


def children_plan(config: SearchConfig, data: Any, device: str) -> SearchPlan:
    """``planning.children``'s plan for a search whose children train from scratch."""
    cls = evaluator_class(config.evaluator)
    options = {**cls.schema.defaults(), **config.evaluator_options}
    m = config.archs_per_step or cls.suggested_samples_per_update
    train_size, valid_size = example_counts(data)  # images, or a corpus's seq_len-token sequences
    return plan_children(config.space, dict(config.space_options), data.task(),
                         train_size=train_size, valid_size=valid_size,
                         budget_seconds=float(config.budget_seconds),
                         batch_size=options.get("batch_size") or config.batch_size, children_per_step=m,
                         child_epochs=int(options.get("child_epochs") or 1),
                         measure=median_measure([default_measure(device, arch) for arch in
                                                 typical_children(config.space, dict(config.space_options))]))


def planned_search_config(config: SearchConfig, plan: SearchPlan | None) -> SearchConfig:
    """``config`` with the plan's proxy under the user's own options and its batch size (and, for
    children trained from scratch, their time cap unless the user set their epochs or seconds)."""
    if plan is None:
        return dataclasses.replace(config, batch_size=config.batch_size or DEFAULT_SEARCH_BATCH)
    options = {**plan.space_options, **config.space_options}
    evaluator_options = dict(config.evaluator_options)
    if plan.child_seconds is not None and not {"child_epochs", "child_seconds"} & set(evaluator_options):
        evaluator_options["child_seconds"] = plan.child_seconds
    return dataclasses.replace(config, space_options=options, batch_size=config.batch_size or plan.batch_size,
                               evaluator_options=evaluator_options)


DEFAULT_FINAL_BATCH = 64  # an unplanned final training with no batch size given
SIZE_FIELDS = ("channels", "cells_per_stage", "layers", "hidden_size")  # FinalConfig fields sizing the child


def final_plan(config: Any, arch: dict[str, Any], space_options: dict[str, Any], data: Any,
               device: str) -> FinalPlan | None:
    """The final child's size and batch for ``config`` (a ``FinalConfig``) with a time budget and
    no epoch count, measured on ``device`` with the architecture itself; else ``None``."""
    space = arch["space"]
    kind = space_class(space).task_kind
    if kind == LANGUAGE and config.plan and config.budget_seconds and config.epochs is None:
        return _language_final_plan(config, arch, space_options, data, device)
    if not (config.plan and config.budget_seconds and config.epochs is None
            and kind == IMAGE and child_ladder(space)):
        return None
    given = {k: getattr(config, k) for k in SIZE_FIELDS if getattr(config, k) is not None}
    return plan_final(space, space_options, data.task(), train_size=len(data.train.labels),
                      valid_size=len(data.valid.labels), budget_seconds=float(config.budget_seconds),
                      batch_size=config.batch_size, given=given, measure=default_measure(device, arch))


def _language_final_plan(config: Any, arch: dict[str, Any], space_options: dict[str, Any], data: Any,
                         device: str) -> FinalPlan:
    """A language child's hidden size and streams (``planning.language``); fine-tuned from the
    supernet (``init`` resolved to "supernet") it keeps the supernet's hidden size."""
    fixed = space_options.get("hidden_size") if config.init == "supernet" else config.hidden_size
    return plan_language_final(arch["space"], space_options, data.task(), train_tokens=data.train.numel(),
                               valid_tokens=data.valid.numel(), budget_seconds=float(config.budget_seconds),
                               batch_size=config.batch_size,
                               given={"hidden_size": fixed} if fixed is not None else {},
                               measure=lm_measure(device, arch))


def lm_measure(device: str, arch: dict[str, Any] | None = None) -> Measure:
    """Language steps are measured with the threads they train with (``training.lm.CPU_THREADS``)."""
    from searchcore.training.lm import CPU_THREADS

    return default_measure(device, arch, threads=CPU_THREADS if device == "cpu" else None)


def planned_final_config(config: Any, plan: FinalPlan | None) -> Any:
    """``config`` with the plan's child size and batch where the user left them open."""
    if plan is None:
        return dataclasses.replace(config, batch_size=config.batch_size or DEFAULT_FINAL_BATCH)
    sizes = {k: v for k, v in plan.overrides.items() if k in SIZE_FIELDS and getattr(config, k) is None}
    return dataclasses.replace(config, batch_size=config.batch_size or plan.batch_size, **sizes)


def announce(emitter: Any, phase: str, plan: SearchPlan | FinalPlan | None) -> None:
    """The ``plan`` event of a phase (nothing when it was not planned)."""
    if plan is not None:
        emitter.emit("plan", phase=phase, message=plan.message, meaningful=plan.meaningful,
                     epochs=plan.epochs, minimum_budget_seconds=plan.minimum_budget_seconds,
                     details=plan.to_dict())


def plan_for_run(config: SearchConfig, data: Any, device: str, out_dir: Path,
                 emitter: Any) -> tuple[SearchConfig, float]:
    """The search's plan (stored or measured now) announced, as the config to run and the seconds
    the planning took (they count in the budget)."""
    started = time.perf_counter()
    plan = search_plan(config, data, device, out_dir)
    seconds = time.perf_counter() - started
    announce(emitter, "search", plan)
    return planned_search_config(config, plan), seconds


def planned_minimum_seconds(search_dir: Path, final_dir: Path) -> float | None:
    """The smallest total budget the run's plans said would buy their minimums (the search's
    ``plan.json`` plus final training's ``plan`` event), or ``None`` when neither phase was planned."""
    from searchcore.events import read_events

    total, found = 0.0, False
    if (search_dir / PLAN_NAME).is_file():
        plan = json.loads((search_dir / PLAN_NAME).read_text(encoding="utf-8"))
        total += float(plan["minimum_budget_seconds"])
        found = True
    events = final_dir / "events.jsonl"
    plans = [e for e in read_events(events) if e.type == "plan"] if events.is_file() else []
    if plans:
        total += float(plans[-1].payload["minimum_budget_seconds"])
        found = True
    return total if found else None
