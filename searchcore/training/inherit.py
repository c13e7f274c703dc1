"""Final training from the supernet's weights (fine-tune), beside training from scratch.

One-shot methods (ENAS's weight sharing, once-for-all) train a supernet whose path for the derived
architecture is already a trained network; starting the final child there keeps what the search
learned. The search folder holds the supernet (``checkpoint.pt``: the evaluator's ``net``) and
the size it was built at (the search's space options, with the budget planner's proxy from
``plan.json`` under them). The child is built at that size, the only one whose weights exist,
and takes its architecture's weights (``SearchSpace.load_child_from_supernet``).

``init``: ``"scratch"`` (the papers' protocol), ``"supernet"``, or ``"auto"``: ``DEFAULT_INIT``
when the search folder has a supernet, else scratch. The default is chosen by measurement (see
``BENCHMARKS.md``, ``bench.quality``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from torch import nn

from searchcore.planning.apply import PLAN_NAME
from searchcore.search.store import CHECKPOINT_NAME, load_checkpoint
from searchcore.spaces import TaskSpec, create_space
from searchcore.training.settings import INITS

logger = logging.getLogger(__name__)

# What "auto" means when a supernet exists, chosen by measurement: bench.quality at 3 minutes on the
# CIFAR-10 subset (2-core CPU, 2026-12-02) gave 0.412 test accuracy from the supernet's weights (the
# child keeps the search proxy's size: 8 channels, 40k parameters) against 0.436 from scratch (the
# planner's child: 12 channels, 72k). Scratch lets the final planner size the child for its own budget.
DEFAULT_INIT = "scratch"
SIZE_OVERRIDES = ("channels", "cells_per_stage", "layers", "hidden_size")  # hidden_size: language


def resolved_init(init: str, search_dir: str | None) -> str:
    """``"scratch"`` or ``"supernet"``; ``ValueError`` when a supernet is asked for but missing."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, not {init!r}")
    has_supernet = search_dir is not None and (Path(search_dir) / CHECKPOINT_NAME).is_file()
    if init == "supernet" and not has_supernet:
        where = search_dir or "(none given)"
        raise ValueError(f"init 'supernet' needs the search folder with its checkpoint; {where} has none")
    if init == "auto":
        return DEFAULT_INIT if has_supernet else "scratch"
    return init


def supernet_space_options(search_dir: str | Path, space_options: dict[str, Any]) -> dict[str, Any]:
    """The options the search's supernet was built with: the plan's proxy under the user's own."""
    plan_path = Path(search_dir) / PLAN_NAME
    if not plan_path.is_file():
        return dict(space_options)
    planned = json.loads(plan_path.read_text(encoding="utf-8"))["space_options"]
    return {**planned, **space_options}


def check_no_resize(overrides: dict[str, Any]) -> None:
    """A fine-tuned child keeps the supernet's size: a size override cannot be honoured."""
    given = sorted(k for k in SIZE_OVERRIDES if overrides.get(k) is not None)
    if given:
        raise ValueError(f"init 'supernet' keeps the search's network size; leave {', '.join(given)} empty "
                         "or train from scratch")


def load_supernet_weights(child: nn.Module, arch_json: dict[str, Any], space_options: dict[str, Any],
                          task: TaskSpec, search_dir: str | Path) -> None:
    """Rebuild the search's supernet from its checkpoint and copy the architecture's weights."""
    space = create_space(arch_json["space"], **space_options)
    supernet = space.build_supernet(task)
    state = load_checkpoint(Path(search_dir) / CHECKPOINT_NAME)
    if "net" not in (state.get("evaluator") or {}):  # e.g. a scratch search: every child trained alone
        evaluator = state.get("config", {}).get("evaluator")
        raise ValueError(f"the search in {search_dir} trained no shared-weight supernet (its evaluator is "
                         f"{evaluator!r}): train from scratch (init 'scratch')")
    try:
        supernet.load_state_dict(state["evaluator"]["net"])
    except RuntimeError as exc:  # e.g. another number of classes or input channels (a transfer)
        raise ValueError(f"the search's supernet in {search_dir} was trained on data of another shape than "
                         f"this ({task.in_channels} input channel(s), {task.num_classes} classes): train "
                         "from scratch (init 'scratch')") from exc
    space.load_child_from_supernet(child, supernet)
    logger.info("final child initialised from the supernet in %s", search_dir)
