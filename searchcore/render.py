"""Draw an architecture graph (``SearchSpace.graph(arch)``) with Graphviz, as DARTS' ``visualize.py``.

Inputs are green, intermediate nodes blue, the output yellow; edges carry their op names. Each
cell is one ``cluster`` subgraph and the cells are chained by invisible edges, so a micro
architecture's normal and reduction cells sit side by side. ``render_svg`` needs the ``dot``
program (Debian package ``graphviz``); the ``graphviz`` PyPI package only writes DOT text.
"""

from __future__ import annotations

import logging
import re
import shutil
from typing import Any

import graphviz

logger = logging.getLogger(__name__)

FILL = {"input": "darkseagreen2", "op": "lightblue", "output": "palegoldenrod"}
_PROLOG = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.DOTALL)


class RenderError(RuntimeError):
    """Graphviz is missing or failed; the message says what to install."""


def _digraph(graph: dict[str, Any]) -> graphviz.Digraph:
    cells = graph.get("cells")
    if not isinstance(cells, list) or not cells:
        raise ValueError("graph needs a non-empty 'cells' list")
    g = graphviz.Digraph(
        "architecture",
        graph_attr={"rankdir": "LR", "fontname": "Helvetica", "fontsize": "14", "bgcolor": "transparent"},
        node_attr={"style": "filled", "shape": "rect", "fontname": "Helvetica", "fontsize": "12",
                   "height": "0.4", "penwidth": "1.5"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "gray40"},
    )
    previous_tail: str | None = None
    for index, cell in enumerate(cells):
        names = {str(node["id"]): f"c{index}_n{k}" for k, node in enumerate(cell.get("nodes", []))}
        with g.subgraph(name=f"cluster_{index}") as sub:
            sub.attr(label=graphviz.nohtml(str(cell.get("name", f"cell {index}"))), style="rounded",
                     color="gray70")
            for node in cell.get("nodes", []):
                kind = str(node.get("kind", "op"))
                sub.node(names[str(node["id"])], label=graphviz.nohtml(str(node.get("label", node["id"]))),
                         fillcolor=FILL.get(kind, "white"))
            for edge in cell.get("edges", []):
                source, target = str(edge["source"]), str(edge["target"])
                if source not in names or target not in names:
                    raise ValueError(f"cell {cell.get('name')!r}: edge {source}->{target} "
                                     "names an unknown node")
                label = edge.get("label")
                sub.edge(names[source], names[target], label=graphviz.nohtml(str(label)) if label else None)
        if names:
            if previous_tail is not None:
                g.edge(previous_tail, _first_of_kind(cell, names, "input", 0), style="invis")
            previous_tail = _first_of_kind(cell, names, "output", -1)
    return g


def _first_of_kind(cell: dict[str, Any], names: dict[str, str], kind: str, fallback: int) -> str:
    """DOT name of the cell's first node of ``kind`` (else its first/last node): the chain anchors."""
    for node in cell.get("nodes", []):
        if node.get("kind") == kind:
            return names[str(node["id"])]
    return list(names.values())[fallback]


def graph_to_dot(graph: dict[str, Any]) -> str:
    """DOT source of ``graph``; needs no Graphviz binary."""
    return _digraph(graph).source


def render_svg(graph: dict[str, Any], inline: bool = False) -> str:
    """SVG text of ``graph`` drawn by ``dot``; ``inline=True`` drops the XML prolog for HTML embedding."""
    if shutil.which("dot") is None:
        raise RenderError("Graphviz 'dot' was not found on PATH; install the Debian package 'graphviz'")
    try:
        svg = _digraph(graph).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise RenderError("Graphviz 'dot' was not found; install the Debian package 'graphviz'") from exc
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"Graphviz 'dot' failed: {exc}") from exc
    return _PROLOG.sub("", svg, count=1) if inline else svg


__all__ = ["RenderError", "graph_to_dot", "render_svg"]
