"""The designer's live preview: a random sample of the designed space drawn as SVG, and its size."""

from __future__ import annotations

import logging
from typing import Any

import torch

from searchcore.spaces import create_space
from webapp.designer.catalog import format_size

logger = logging.getLogger(__name__)


def render_graph_svg(graph: dict[str, Any]) -> str:
    """One place that calls the renderer, so views and tests share it."""
    from searchcore.render import render_svg  # imported late: needs the graphviz binary only when used

    return render_svg(graph, inline=True)


def space_preview(space_name: str, options: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Sample one architecture with ``seed`` and describe the space; raises ``ValueError`` on bad options."""
    space = create_space(space_name, **options)
    arch = space.sample_random(torch.Generator().manual_seed(seed))
    graph = space.graph(arch)
    size = space.size()
    return {
        "space": space_name,
        "size": str(size),
        "size_text": format_size(size),
        "decisions": len(space.decisions()),
        "architecture": space.arch_to_json(arch),
        "cells": [cell.get("name", f"cell {i}") for i, cell in enumerate(graph.get("cells", []))],
        # one drawing per cell, so the narrow preview panel can stack them at a readable size
        "cell_svgs": [render_graph_svg({**graph, "cells": [cell]}) for cell in graph.get("cells", [])],
    }
