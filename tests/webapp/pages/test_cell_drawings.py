"""Cell drawings fit their cards: the SVG scales (viewBox) and the stylesheet bounds every drawing.

Graphviz writes a fixed width in pt (an enas-micro normal cell is wider than a card); the results
page shows it as ``<img>``, the live page and the designer inline. Without a rule bounding both, the
results page's normal cell ran into the reduce cell's card.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.webapp.pages.conftest import MICRO_GRAPH, add_event
from webapp.searches.models import Search

CSS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "css" / "app.css"


def declarations(selector: str) -> dict[str, str]:
    """Every declaration of the top-level rules whose selector list names ``selector`` exactly."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.DOTALL)
    found: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        names = {" ".join(s.split()) for s in selectors.split(",")}
        if selector in names:
            for item in body.split(";"):
                prop, _, value = item.partition(":")
                if prop.strip():
                    found[prop.strip()] = " ".join(value.split())
    return found


def test_every_drawing_is_bounded_by_its_card() -> None:
    for drawing in (".svg-host > img", ".svg-host > svg"):
        style = declarations(drawing)
        assert style.get("max-width") == "100%" and style.get("height") == "auto", (drawing, style)
        assert style.get("object-fit") == "contain", (drawing, style)  # a capped height keeps the aspect
    box = declarations(".cell-box")
    assert box.get("overflow") == "hidden" and box.get("min-width") == "0", box


def test_results_page_drawings_are_scalable_svg_in_bounded_hosts(client_a, search) -> None:
    best = {"reward": 0.5, "architecture": {}}
    Search.objects.filter(pk=search.pk).update(status=Search.SUCCEEDED, best=best)
    add_event(search, 1, "best", {"step": 3, "architecture": {}, "reward": 0.5, "graph": MICRO_GRAPH})
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    hosted = re.findall(r'<div class="svg-host"><img [^>]*src="([^"]+)"', html)
    assert len(hosted) == 2, html  # normal and reduce, each the direct child the stylesheet bounds
    for url in hosted:
        svg = client_a.get(url.replace("&amp;", "&")).content.decode()
        assert re.search(r'<svg [^>]*viewBox="[\d. ]+"', svg), svg[:300]  # scales instead of cropping
