"""Cell drawings of a search's architectures, rendered server-side as SVG and cached per event.

A seq alone does not name an architecture: a search resumed after a worker crash drops its events
after the checkpoint and emits new ones under the same seqs. A stored event is identified by its seq
*and* its emission ``time``, so both are in the cache key; a viewer that names a time (``&t=``) which
is no longer the stored event's gets ``StaleEvent`` instead of another architecture's drawing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from searchcore.spaces import create_space
from webapp.designer.preview import render_graph_svg
from webapp.searches.events import latest_of_type
from webapp.searches.models import Search, SearchEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = {"best": "best", "sampled": "arch_sampled"}


class NoGraph(LookupError):
    """The search has no architecture of that kind (yet)."""


class StaleEvent(NoGraph):
    """The viewer's event at that seq was replaced (the search resumed from a checkpoint)."""


TIME_TOLERANCE = 1e-6  # seconds; times round-trip exactly through JSON, this only absorbs float noise


def graph_svg(search: Search, which: str, seq: int | None, cell: int | None,
              seen_time: float | None = None) -> tuple[str, int]:
    """SVG of one cell (or all cells) of the ``which`` architecture at ``seq`` (latest if ``None``)."""
    key, graph, event_seq = cell_graph(search, which, seq, cell, seen_time)
    return render_cached(key, graph), event_seq


def cell_graph(search: Search, which: str, seq: int | None, cell: int | None,
               seen_time: float | None = None) -> tuple[str, dict[str, Any], int]:
    """``(cache key, graph to draw, event seq)``: the database part of ``graph_svg``.

    ``seen_time`` is the time of the event the viewer holds at ``seq``; ``StaleEvent`` when the
    stored event at that seq has another time.
    """
    event = _event(search, which, seq)
    if seq is not None and seen_time is not None and abs(event.time - seen_time) > TIME_TOLERANCE:
        raise StaleEvent(f"event {seq} was replaced")
    graph = _graph(search, event)
    cells = graph.get("cells") or []
    if cell is not None:
        if not 0 <= cell < len(cells):
            raise NoGraph(f"no cell {cell}")
        graph = {**graph, "cells": [cells[cell]]}
    event_seq = event.seq if event else 0
    identity = f"{event.seq}:{event.time!r}" if event else "final"
    return f"svg:{search.pk}:{which}:{identity}:{cell}", graph, event_seq


def render_cached(key: str, graph: dict[str, Any]) -> str:
    """Render with ``dot`` (a subprocess) unless cached; safe to run off the request thread."""
    svg = cache.get(key)
    if svg is None:
        svg = render_graph_svg(graph)
        cache.set(key, svg, 3600)
    return svg


def _event(search: Search, which: str, seq: int | None) -> SearchEvent | None:
    if which not in EVENT_TYPES:
        raise NoGraph(f"unknown architecture kind {which!r}")
    event = latest_of_type(search.pk, EVENT_TYPES[which], seq)
    if event is None and (which != "best" or not search.best or seq is not None):
        raise NoGraph(f"no {which} architecture yet")
    return event


def _graph(search: Search, event: SearchEvent | None) -> dict[str, Any]:
    payload = event.payload if event else (search.best or {})
    if payload.get("graph"):
        return payload["graph"]
    arch = payload.get("architecture") or {}
    return architecture_graph(search, arch)


def architecture_graph(search: Search, arch: dict[str, Any]) -> dict[str, Any]:
    config = search.config or {}
    space = create_space(arch.get("space") or config.get("space"), **(config.get("space_options") or {}))
    return space.graph(space.arch_from_json(arch))


def cell_names(search: Search, which: str) -> list[str]:
    """Names of the cells of the latest ``which`` architecture (one SVG each on the page)."""
    graph = _graph(search, _event(search, which, None))
    return [c.get("name") or f"cell {i}" for i, c in enumerate(graph.get("cells") or [])]
