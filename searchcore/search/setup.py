"""Builds the parts of a search from its config (used by ``searchcore.search.loop``).

Every user-caused problem found here (unknown space/controller/evaluator name, bad space option,
unreadable dataset, missing file) is re-raised as ``SearchSetupError`` with the original one-line
message, so the CLI and the web app can show it without a traceback. A space/evaluator pair that
cannot run is refused by ``searchcore.compat.combination_errors`` before anything is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from searchcore.compat import combination_errors
from searchcore.config import SearchConfig
from searchcore.controllers import Controller, create_controller
from searchcore.evaluators import (
    Evaluator,
    EvaluatorContext,
    Executor,
    create_evaluator,
    evaluator_class,
    evaluator_schema,
)
from searchcore.evaluators.executor import InProcessExecutor
from searchcore.registry import UnknownNameError
from searchcore.schema import OptionsError
from searchcore.spaces import SearchSpace, create_space

logger = logging.getLogger(__name__)


class SearchSetupError(ValueError):
    """A search cannot start because of its settings or its data; the message is for the user.
    ``errors`` maps a setting (``space``, ``evaluator``, ...) to its messages when one is to blame."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


@dataclass
class SearchParts:
    space: SearchSpace
    controller: Controller
    evaluator: Evaluator
    data: Any
    archs_per_step: int = 1  # architectures sampled, scored and learnt from per controller update


def build_parts(config: SearchConfig, device: torch.device, *, should_stop: Callable[[], bool],
                on_step: Callable[[int, int], None], budget_fraction: Callable[[], float],
                executor: Executor | None = None,
                plan: Callable[[SearchConfig, Any], SearchConfig] | None = None,
                on_score: Callable[[float], None] | None = None) -> SearchParts:
    """``plan(config, data)``: the configuration to run once the data is loaded (the budget
    planner's proxy size and batch, ``searchcore.planning.apply``); default: ``config`` as it is.
    ``on_score(fraction)``: how much of the batch being scored is done (evaluators that can tell)."""
    try:
        space = create_space(config.space, **config.space_options)
        check_combination(config)
        options = _evaluator_options(config)
        data = _load_data(config)
        if plan is not None:
            config = plan(config, data)
            space = create_space(config.space, **config.space_options)
            options = _evaluator_options(config)  # a plan may fill some (scratch: child_seconds)
        context = EvaluatorContext(space=space, device=device, seed=config.seed, data=data,
                                   should_stop=should_stop, on_step=on_step, batch_size=config.batch_size,
                                   budget_fraction=budget_fraction, executor=executor or InProcessExecutor(),
                                   data_ref=_data_ref(config, data),
                                   on_score=on_score or (lambda fraction: None))
        evaluator = create_evaluator(config.evaluator, context=context, **options)
        controller = create_controller(config.controller, decisions=space.decisions(),
                                       initial_nodes=space.initial_nodes, seed=config.seed,
                                       **controller_options(config, evaluator))
    except (UnknownNameError, ValueError, FileNotFoundError, TypeError) as exc:
        if isinstance(exc, SearchSetupError):
            raise
        if isinstance(exc, TypeError) and "argument" not in str(exc):
            raise  # a TypeError that is not about options is a bug, keep its traceback
        raise SearchSetupError(str(exc)) from exc
    archs_per_step = config.archs_per_step or evaluator.suggested_samples_per_update
    logger.info("search parts: space %s, controller %s (%s archs per step), evaluator %s on %s",
                config.space, config.controller, archs_per_step, config.evaluator, device)
    return SearchParts(space=space, controller=controller, evaluator=evaluator, data=data,
                       archs_per_step=archs_per_step)


def _evaluator_options(config: SearchConfig) -> dict[str, Any]:
    try:
        return evaluator_schema(config.evaluator).parse(config.evaluator_options, fill_defaults=False)
    except OptionsError as exc:
        messages = [f"{name}: {msg}" for name, msgs in exc.errors.items() for msg in msgs]
        raise SearchSetupError(str(exc), {"evaluator_options": messages}) from exc


def check_combination(config: SearchConfig) -> None:
    """``SearchSetupError`` naming the setting and the reason when space and evaluator cannot go
    together (unknown names keep their registries' messages: they are raised before this)."""
    evaluator_class(config.evaluator)  # an unknown name raises the registry's message
    errors = combination_errors(config.space, config.evaluator)
    if errors:
        message = "; ".join(f"{field}: {msg}" for field, msgs in errors.items() for msg in msgs)
        raise SearchSetupError(message, errors)


def controller_options(config: SearchConfig, evaluator: Evaluator) -> dict[str, Any]:
    """The evaluator's suggested options for this controller (e.g. a reward scale for a table in
    percent), overridden by whatever the user set."""
    suggested = getattr(evaluator, "suggested_controller_options", {}).get(config.controller, {})
    return {**suggested, **config.controller_options}


def _data_ref(config: SearchConfig, data: Any) -> dict[str, Any] | None:
    """How a self-contained job loads the search's dataset again (``evaluators.data_ref``)."""
    from searchcore.compat import needs_dataset
    from searchcore.evaluators.data_ref import data_reference
    from searchcore.spaces import space_class

    if not needs_dataset(config.evaluator):
        return None
    return data_reference(space_class(config.space).task_kind, config.data, data, config.seed)


def _load_data(config: SearchConfig) -> Any:
    path = Path(config.data)
    if not path.exists():
        raise FileNotFoundError(f"data file {config.data} does not exist")
    from searchcore.compat import needs_dataset
    from searchcore.data import load_task_data
    from searchcore.spaces import space_class

    if not needs_dataset(config.evaluator):
        return str(path)  # the evaluator reads its own input (e.g. the benchmark's table)
    return load_task_data(space_class(config.space).task_kind, path, image_size=config.image_size,
                          grayscale=config.grayscale, seed=config.seed)
