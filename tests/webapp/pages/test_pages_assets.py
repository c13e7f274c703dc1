from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import plotly
import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_plotly_is_served_locally_with_long_cache(client_a):
    url = f"/assets/plotly-{plotly.__version__}.min.js"
    response = client_a.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
    body = response.content
    assert len(body) > 1_000_000 and b"plotly" in body[:2000].lower()
    again = client_a.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert client_a.get("/assets/plotly-0.0.1.min.js").status_code == 404


def test_no_template_or_module_loads_anything_remote():
    files = list((ROOT / "frontend").rglob("*.html")) + list((ROOT / "frontend" / "static").rglob("*.js"))
    assert files
    for path in files:
        text = path.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
        assert "cdn." not in text.lower(), path


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_trace_builders_and_live_store():
    """The pure ES modules (charts, live store, designer checks) under node's own test runner."""
    result = subprocess.run(["node", "--test", "frontend/tests/"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"# pass \d+", result.stdout) and "# fail 0" in result.stdout
