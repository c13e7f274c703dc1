"""The command line on a text corpus: search (enas-rnn, shared) -> train -> export -> predict.py."""

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
LINE = re.compile(r"^the game\t(?:[^\t]+\t[01]\.\d{4}\t){4}[^\t]+\t[01]\.\d{4}$")


def test_search_train_export_predict_on_a_text_corpus(tmp_path, capsys: pytest.CaptureFixture[str]):
    search, train, pkg = tmp_path / "search", tmp_path / "train", tmp_path / "pkg"
    assert main(["search", "--space", "enas-rnn", "--data", str(CORPUS), "--evaluator", "shared",
                 "--max-epochs", "1", "--controller-steps", "3", "--batch-size", "4",
                 "--space-option", "num_nodes=3", "--space-option", "hidden_size=16",
                 "--out", str(search)]) == 0
    result = json.loads((search / "result.json").read_text())
    assert result["status"] == "succeeded" and result["best"]["architecture"]["space"] == "enas-rnn"
    assert 0.0 < result["best"]["reward"] < 80.0  # 80 / validation perplexity

    # 1 epoch on 1,109 tokens leaves the model above 0.9 x the unigram baseline: the run fails
    # (training.lm_verdict); 3 epochs get below it
    assert main(["train", "--arch", str(search / "result.json"), "--data", str(CORPUS), "--epochs", "1",
                 "--batch-size", "4", "--out", str(tmp_path / "short")]) == 1
    assert "learned nothing beyond word frequencies" in capsys.readouterr().out
    assert main(["train", "--arch", str(search / "result.json"), "--data", str(CORPUS), "--epochs", "3",
                 "--batch-size", "4", "--out", str(train)]) == 0
    out = capsys.readouterr().out
    assert "test perplexity" in out and "is below the learned threshold" in out
    metrics = json.loads((train / "metrics.json").read_text())
    assert metrics["test_perplexity"] > 1.0 and len(metrics["history"]) == 3
    assert json.loads((train / "train_config.json").read_text())["space_options"]["hidden_size"] == 16

    assert main(["export", str(train), "--out", str(tmp_path / "pkg.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "pkg.zip") as zf:
        zf.extractall(pkg)
    proc = subprocess.run([sys.executable, str(pkg / "predict.py"), "the game"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert LINE.match(proc.stdout.strip()), proc.stdout
