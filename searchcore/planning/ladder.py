"""The sizes the planner chooses among: rungs of (channels, depth), smallest first.

A space takes part in planning through the size options its schema declares: ``channels`` and,
where the depth is not part of the architecture, ``cells_per_stage`` (cell spaces). A space
whose depth is a decision (``enas-macro``: one op per layer) is scaled in channels only for the
search; its final child may be deepened by ``layers`` (tiling the searched layers). Rungs outside
an option's declared range are dropped. A space without these options is not planned.
"""

from __future__ import annotations

from typing import Any

from searchcore.spaces import space_class

# (channels, cells per stage): the search proxy's supernet holds every candidate op on every
# edge, so its rungs stay small; the final child has one op per edge and affords more
PROXY_RUNGS = ((8, 1), (12, 1), (16, 1), (16, 2), (20, 2), (24, 2))
CHILD_RUNGS = ((12, 1), (16, 1), (16, 2), (24, 2), (32, 2), (36, 2), (36, 3), (48, 3))
CHANNEL_RUNGS = (8, 12, 16, 24, 32, 48)


def proxy_ladder(space: str) -> list[dict[str, int]]:
    """Space options of the search proxies, smallest first ([] when the space is not planned)."""
    return _ladder(space, PROXY_RUNGS, CHANNEL_RUNGS[:4])


def child_ladder(space: str) -> list[dict[str, int]]:
    """``build_child`` overrides of the final child, smallest first ([] when not planned)."""
    return _ladder(space, CHILD_RUNGS, CHANNEL_RUNGS)


def _ladder(space: str, cell_rungs: tuple[tuple[int, int], ...],
            channel_rungs: tuple[int, ...]) -> list[dict[str, int]]:
    """(channels, cells per stage) rungs for a cell space, channel rungs for one without cells."""
    names = _option_ranges(space)
    if "channels" not in names:
        return []
    if "cells_per_stage" in names:
        rungs = [{"channels": c, "cells_per_stage": k} for c, k in cell_rungs]
    else:
        rungs = [{"channels": c} for c in channel_rungs]
    return _within(rungs, names)


def fixed_by_user(rungs: list[dict[str, int]], given: dict[str, Any]) -> list[dict[str, int]]:
    """The rungs with the user's own values in place (theirs always win), without repeats."""
    out: list[dict[str, int]] = []
    for rung in rungs:
        merged = {k: (given[k] if given.get(k) is not None else v) for k, v in rung.items()}
        if merged not in out:
            out.append(merged)
    return out


def _option_ranges(space: str) -> dict[str, tuple[Any, Any]]:
    schema = space_class(space).schema
    return {o.name: (o.minimum, o.maximum) for o in schema.options if o.type == "int"}


def _within(rungs: list[dict[str, int]], ranges: dict[str, tuple[Any, Any]]) -> list[dict[str, int]]:
    def fits(rung: dict[str, int]) -> bool:
        return all((lo is None or v >= lo) and (hi is None or v <= hi)
                   for k, v in rung.items() for lo, hi in [ranges[k]])
    return [r for r in rungs if fits(r)]
