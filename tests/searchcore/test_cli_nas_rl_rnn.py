"""The command line with ``nas-rl-rnn`` on a text corpus: search with ``scratch`` (the paper's
protocol) and with ``shared``; the scratch search's cell trained, exported (one ONNX step whose state
is ``[h, c]``) and run by the package's ``predict.py``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from searchcore.cli.app import main

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
LINE = re.compile(r"^the game\t(?:[^\t]+\t[01]\.\d{4}\t){2}[^\t]+\t[01]\.\d{4}$")
TINY = ["--space-option", "leaves=2", "--space-option", "hidden_size=16", "--batch-size", "4"]


def _search(out: Path, evaluator: str, *extra: str) -> dict:
    assert main(["search", "--space", "nas-rl-rnn", "--data", str(CORPUS), "--evaluator", evaluator, *TINY,
                 *extra, "--out", str(out)]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "succeeded", result["message"]
    arch = result["best"]["architecture"]
    assert arch["space"] == "nas-rl-rnn" and arch["leaves"] == 2 and len(arch["nodes"]) == 3
    assert 0.0 < result["best"]["reward"] < 80.0  # 80 / validation perplexity
    return result


def test_nas_rl_rnn_searches_with_shared_on_a_text_corpus(tmp_path: Path) -> None:
    _search(tmp_path / "search", "shared", "--max-epochs", "1", "--controller-steps", "3")


def test_scratch_search_train_export_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    search, train, pkg = tmp_path / "search", tmp_path / "train", tmp_path / "pkg"
    result = _search(search, "scratch", "--max-archs", "3", "--archs-per-step", "2",
                     "--evaluator-option", "child_epochs=1")
    assert result["archs_evaluated"] >= 3
    events = [json.loads(line) for line in (search / "events.jsonl").read_text().splitlines()]
    assert sum(e["type"] == "arch_sampled" for e in events) >= 3

    assert main(["train", "--arch", str(search / "result.json"), "--data", str(CORPUS), "--epochs", "1",
                 "--batch-size", "4", "--out", str(train)]) == 0
    assert "test perplexity" in capsys.readouterr().out
    metrics = json.loads((train / "metrics.json").read_text())
    assert metrics["test_perplexity"] > 1.0

    assert main(["export", str(train), "--out", str(tmp_path / "pkg.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "pkg.zip") as zf:
        zf.extractall(pkg)
    export = json.loads((pkg / "export.json").read_text())
    assert export["hidden_size"] == 32 and export["onnx_max_abs_diff"] <= 1e-4  # the state [h, c]
    proc = subprocess.run([sys.executable, str(pkg / "predict.py"), "--top", "3", "the game"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert LINE.match(proc.stdout.strip()), proc.stdout
