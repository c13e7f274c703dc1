"""Cell drawings: DOT text from a space's graph, and SVG through Graphviz ``dot``."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from searchcore import render
from searchcore.spaces import create_space
from searchcore.spaces.nb201 import NB201Arch

ARCH = NB201Arch(("nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "none"))
SVG = "{http://www.w3.org/2000/svg}"


def _two_cells() -> dict:
    (cell,) = create_space("nb201").graph(ARCH)["cells"]
    return {"cells": [dict(cell, name="normal"), dict(cell, name="reduce")]}


def test_dot_has_every_node_edge_label_and_one_cluster_per_cell() -> None:
    dot = render.graph_to_dot(_two_cells())
    assert dot.count("subgraph cluster_") == 2
    for cell in range(2):
        for node in range(4):
            assert f"c{cell}_n{node} [" in dot
    assert "label=normal" in dot and "label=reduce" in dot
    assert dot.count("label=nor_conv_3x3") == 2 and dot.count("label=avg_pool_3x3") == 2
    assert "none" not in dot  # 'none' edges are not drawn
    assert dot.count("fillcolor=darkseagreen2") == 2 and dot.count("fillcolor=palegoldenrod") == 2
    assert "c0_n3 -> c1_n0 [style=invis]" in dot  # cells chained side by side


def test_unknown_node_in_edge_raises() -> None:
    graph = {"cells": [{"name": "c", "nodes": [{"id": "0", "label": "in", "kind": "input"}],
                        "edges": [{"source": "0", "target": "9", "label": "conv"}]}]}
    with pytest.raises(ValueError, match="unknown node"):
        render.graph_to_dot(graph)
    with pytest.raises(ValueError):
        render.graph_to_dot({"cells": []})


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_svg_parses_as_xml_and_shows_every_label() -> None:
    svg = render.render_svg(_two_cells())
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for label in ("input", "1", "2", "output", "normal", "reduce", "nor_conv_3x3", "skip_connect"):
        assert label in texts
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]) == 2
    inline = render.render_svg(_two_cells(), inline=True)
    assert inline.startswith("<svg") and ET.fromstring(inline).tag == f"{SVG}svg"


def test_missing_dot_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(render.RenderError, match="graphviz"):
        render.render_svg(_two_cells())
