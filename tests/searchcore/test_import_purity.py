"""searchcore must never import the web stack: it runs in the CLI and inside Celery alike."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import searchcore

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "celery", "channels", "redis")

SCRIPT = """
import importlib, json, pkgutil, sys
import searchcore
names = [m.name for m in pkgutil.walk_packages(searchcore.__path__, "searchcore.")
         if not m.name.startswith("searchcore.export.template")]
for name in names:
    importlib.import_module(name)
roots = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"modules": names, "roots": roots}))
"""


def test_searchcore_and_every_submodule_import_without_the_web_stack() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = {m.name for m in pkgutil.walk_packages(searchcore.__path__, "searchcore.")}
    wanted = {"searchcore.search.loop", "searchcore.cli.app", "searchcore.evaluators.shared"}
    assert wanted <= set(report["modules"])
    assert set(report["modules"]) == {n for n in expected if not n.startswith("searchcore.export.template")}
    leaked = [name for name in FORBIDDEN if name in report["roots"]]
    assert leaked == [], f"searchcore pulled in {leaked}"
