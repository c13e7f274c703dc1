"""``bench.language`` at a tiny size on the committed WikiText-2 excerpt: both contenders run, at once."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import language

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"


@pytest.mark.slow
def test_enas_rnn_search_and_lstm_run_side_by_side_and_report_test_perplexity(tmp_path: Path) -> None:
    tiny = ["--batch-size", "4", "--hidden-size", "16", "--num-nodes", "3", "--no-plan"]
    assert language.main(["--minutes", "0.2", "--data", str(CORPUS), *tiny, "--out", str(tmp_path / "work"),
                          "--results-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "language.json").read_text())
    runs = {r["contender"]: r for r in result["runs"]}
    assert set(runs) == {"enas-rnn", "lstm"}
    for run in runs.values():
        assert run["status"] == "succeeded"
        assert math.isfinite(run["test_perplexity"]) and run["test_perplexity"] > 1.0
        assert run["test_tokens"] > 0 and run["params"] > 0 and run["epochs_run"] >= 1
    enas, lstm = runs["enas-rnn"], runs["lstm"]
    assert enas["search_status"] == "succeeded" and 0.0 < enas["derived_reward"] < 80.0  # 80 / valid ppl
    assert enas["architecture"]["space"] == "enas-rnn" and len(enas["architecture"]["nodes"]) == 3
    assert lstm["init"] == "scratch" and lstm["batch_size"] == enas["batch_size"] == 4
    assert lstm["hidden_size"] == enas["hidden_size"] == 16  # --no-plan: the sizes asked for
    assert lstm["recipe"] == enas["recipe"]  # the same language training loop and recipe
    # both processes ran at the same time, so the machine's load hit both
    assert max(enas["wall_start"], lstm["wall_start"]) < min(enas["wall_end"], lstm["wall_end"])
    assert result["load_samples"] and result["machine"]["cpu_count"]


def test_bad_arguments_are_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--contenders", "enas-rnn,gru"], ["--search-share", "1.5"], ["--minutes", "0"]):
        with pytest.raises(SystemExit) as exc:
            language.parse_args(argv)
        assert exc.value.code == 2
    assert "--search-share" in capsys.readouterr().err
