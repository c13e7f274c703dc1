"""``bench.gpu_journey``'s CPU mode runs every step a GPU session will run (bench, search, train,
export, predict through the CLI), so the device script is known to work before a GPU ever runs it."""

from __future__ import annotations

import json

import pytest

from bench import gpu_journey


@pytest.mark.slow
@pytest.mark.integration
def test_cpu_tiny_journey_passes_every_step(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["--device", "cpu", "--tiny", "--out", str(out), "--work", str(tmp_path / "w")]
    assert gpu_journey.main(argv) == 0
    printed = capsys.readouterr().out
    steps = ["environment", "gpu_epoch", "search", "train", "export", "predict"]
    for step in steps:
        assert f"PASS {step}:" in printed
    assert printed.rstrip().endswith("JOURNEY PASS")
    summary = json.loads((out / "journey.json").read_text())
    assert summary["passed"] and [s["step"] for s in summary["steps"]] == steps
    kept = sorted(p.name for p in out.iterdir())  # few small files: what a device call brings back
    assert kept == ["gpu_epoch.json", "journey.json", "journey.log", "metrics.json", "result.json"]
    assert json.loads((out / "metrics.json").read_text())["device"] == "cpu"


def test_asking_for_cuda_without_one_fails_clearly(tmp_path, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert gpu_journey.main(["--device", "cuda", "--out", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert "FAIL environment: " in printed and "no CUDA device" in printed
    assert printed.rstrip().endswith("JOURNEY FAIL (environment)")
