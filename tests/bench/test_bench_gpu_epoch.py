"""``bench.gpu_epoch`` runs on CPU at tiny sizes: the same code path a GPU run takes (shared evaluator,
controller phase, batch sweep, memory steps), with the CUDA-only figures reported as absent."""

from __future__ import annotations

import json
import math

import pytest

from bench import gpu_epoch

TINY = ["--device", "cpu", "--train-images", "48", "--valid-images", "16", "--image-size", "8",
        "--channels", "4", "--cells-per-stage", "1", "--nodes", "2", "--batch", "8", "--sweep", "16",
        "--warmup-steps", "1", "--sweep-steps", "2", "--controller-steps", "2", "--threads", "1"]


@pytest.mark.slow
def test_tiny_cpu_run_prints_the_table_and_writes_every_figure(tmp_path, capsys) -> None:
    assert gpu_epoch.main([*TINY, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "child training epoch, batch 8 (s)" in out and "n/a (CPU)" in out
    result = json.loads((tmp_path / "gpu_epoch.json").read_text())
    assert result["device"] == "cpu" and result["sizes"]["train_images"] == 48
    assert [row["batch"] for row in result["sweep"]] == [8, 16]
    assert result["best_batch"] in (8, 16) and str(result["best_batch"]) in result["epochs"]
    at_8 = result["epochs"]["8"]
    assert at_8["steps_per_epoch"] == 6 and at_8["steps_timed"] == 6 and not at_8["extrapolated"]
    for key in ("child_epoch_s", "controller_s", "whole_epoch_s"):
        assert math.isfinite(at_8[key]) and at_8[key] > 0
    assert at_8["whole_epoch_s"] == pytest.approx(at_8["child_epoch_s"] + at_8["controller_s"])
    assert at_8["host_syncs"] is None  # counted on CUDA only
    assert result["memory"]["child"]["peak_bytes"] is None and "ratio_total" not in result["memory"]


@pytest.mark.slow
def test_time_cap_cuts_the_epoch_and_says_it_was_extrapolated(tmp_path) -> None:
    args = gpu_epoch.parse([*TINY, "--train-images", "400", "--sweep", "", "--time-cap", "0.01"])
    result = gpu_epoch.run(args)
    at_8 = result["epochs"]["8"]
    assert at_8["steps_per_epoch"] == 50 and 1 <= at_8["steps_timed"] < 50 and at_8["extrapolated"]
    assert at_8["child_epoch_s"] > 0
    assert "extrapolated" in gpu_epoch.table(result)


def test_bad_sizes_are_refused_by_name(capsys) -> None:
    with pytest.raises(SystemExit):
        gpu_epoch.parse(["--batch", "0"])
    assert "--batch must be at least 1" in capsys.readouterr().err
