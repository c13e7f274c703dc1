"""A run of a space without decisions (``resnet20``): no search, final training for the whole budget.

Such a space holds one architecture (``searchcore.compat.trains_only``), so searching it would only
spend the budget. A run of it trains that architecture for the search's time and final training's
together: a hand-designed network trained for as long as the whole search would have taken, the
baseline a search must beat (design §6). It trains from scratch (there is no supernet to start
from) at the space's own width, so the planner chooses the batch but never shrinks the network.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from searchcore.spaces import create_space


def fixed_architecture(space: str, space_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The architecture JSON of the only architecture of ``space``."""
    built = create_space(space, **(space_options or {}))
    return built.arch_to_json(built.from_decisions([]))


def whole_budget_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored run config with the search's time budget moved into final training's.

    The search budget fields are cleared (there is no search); final training gets the sum of the
    two time budgets (its epoch count, if any, stays a cap), starts from scratch, and keeps the
    space's width (``channels`` of an image network, ``hidden_size`` of a language one) unless the user
    gave final training its own, so the final planner never shrinks the baseline.
    """
    final = dict(config.get("final") or {})
    seconds = [float(v) for v in (config.get("budget_seconds"), final.get("budget_seconds")) if v]
    final["budget_seconds"] = sum(seconds) if seconds else None
    final["init"] = "scratch"
    options = dataclasses.asdict(create_space(config["space"], **(config.get("space_options") or {})).options)
    for width in ("channels", "hidden_size"):
        if final.get(width) is None and width in options:
            final[width] = options[width]
    return {**config, "budget_seconds": None, "max_archs": None, "max_epochs": None, "final": final}


__all__ = ["fixed_architecture", "whole_budget_config"]
