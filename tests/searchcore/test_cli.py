"""The command line (design §7): spaces, search -> train -> export -> predict, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from searchcore.cli.app import main
from searchcore.spaces import list_spaces

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TINY = FIXTURES / "cifar10_tiny_png.zip"
TABLE = FIXTURES / "nb201_cifar10.csv"


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}


def test_python_m_searchcore_spaces_prints_one_name_per_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "searchcore", "spaces"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == list_spaces() and "nb201" in proc.stdout.split()


def test_spaces_json_describes_each_space(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spaces", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in described] == list_spaces()
    # a space without decisions is one fixed network (resnet20): one architecture, nothing to choose
    assert all(int(d["size"]) == 1 if not d["decisions"] else int(d["size"]) > 1 for d in described)


@pytest.mark.parametrize(("args", "message"), [
    (["--space", "nope"], "unknown search space 'nope'; known: "),
    (["--space", "nb201", "--controller", "trpo"], "unknown controller 'trpo'; known: ppo, random, reinfo"),
    (["--space", "nb201", "--evaluator", "nope"], "unknown evaluator 'nope'; known: benchmark, scratch, sh"),
    (["--space", "nb201", "--controller", "nope"], "unknown controller 'nope'; known: "),
    (["--space", "nb201", "--budget", "5 parsecs"], "budget '5 parsecs' is not like 90s, 20m or 2h"),
    (["--space", "nb201", "--space-option", "colour=red"], "option colour: unknown option; known: ops,"),
    (["--space", "nb201", "--space-option", "channels=many"], "channels: 'many' is not a whole number"),
    (["--space", "nb201", "--space-option", "ops=conv9x9"], "ops: unknown 'conv9x9'; choose from none,"),
    (["--space", "nb201", "--data", "/no/such/file.zip"], "data file /no/such/file.zip does not exist"),
    (["--space", "nb201", "--device", "tpu"], "device must be auto, cpu or cuda"),
])
def test_user_errors_are_one_line_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  args: list[str], message: str) -> None:
    argv = ["search", "--data", str(TABLE), "--evaluator", "benchmark", "--max-archs", "3",
            "--out", str(tmp_path / "out"), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1], err
    assert not any("Traceback" in line for line in err)


def test_image_size_and_grayscale_default_to_the_dataset_and_can_be_set() -> None:
    from searchcore.cli.app import _search_config, build_parser

    base = ["search", "--space", "nb201", "--data", str(TINY), "--max-epochs", "1", "--out", "x"]
    auto = _search_config(build_parser().parse_args(base))
    assert (auto.image_size, auto.grayscale) == (None, None)
    chosen = _search_config(build_parser().parse_args([*base, "--image-size", "20", "--no-grayscale"]))
    assert (chosen.image_size, chosen.grayscale) == (20, False)
    assert _search_config(build_parser().parse_args([*base, "--grayscale"])).grayscale is True


def test_unusable_dataset_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("readme.txt", "no images here")
    argv = ["search", "--space", "nb201", "--data", str(bad), "--max-epochs", "1",
            "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "image" in err[-1] and not any("Traceback" in e for e in err)


def test_search_train_export_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.set_num_threads(1)
    search_dir, train_dir, package = tmp_path / "search", tmp_path / "train", tmp_path / "model.zip"
    assert main(["search", "--space", "nb201", "--data", str(TINY), "--controller", "reinforce",
                 "--evaluator", "shared", "--budget", "2m", "--max-epochs", "1",
                 "--space-option", "channels=4", "--space-option", "cells_per_stage=1",
                 "--image-size", "16", "--batch-size", "16",
                 "--controller-steps", "3", "--seed", "1", "--device", "cpu", "--out", str(search_dir)]) == 0
    result = json.loads((search_dir / "result.json").read_text())
    assert result["space"] == "nb201" and result["status"] == "succeeded"
    assert set(result["best"]) == {"architecture", "reward"} and 0.0 <= result["best"]["reward"] <= 1.0
    assert (search_dir / "events.jsonl").exists() and (search_dir / "checkpoint.pt").exists()
    assert "search succeeded: best reward" in capsys.readouterr().out

    code = main(["train", "--arch", str(search_dir / "result.json"), "--data", str(TINY), "--budget", "2m",
                 "--epochs", "1", "--device", "cpu", "--out", str(train_dir)])
    metrics = json.loads((train_dir / "metrics.json").read_text())
    # one epoch on 90 images is most likely at chance: the CLI then says so and exits 1
    assert code == (0 if metrics["verdict"]["above_chance"] else 1)
    assert ("above chance" if code == 0 else "at chance level on validation") in capsys.readouterr().out
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert json.loads((train_dir / "preprocessing.json").read_text())["image_size"] == 16  # from the search

    assert main(["export", str(train_dir), "--out", str(package)]) == 0
    unpacked = tmp_path / "pkg"
    with zipfile.ZipFile(package) as zf:
        zf.extractall(unpacked)
    images = tmp_path / "images"
    with zipfile.ZipFile(TINY) as zf:
        names = [n for n in zf.namelist() if n.endswith(".png")][:2]
        for name in names:
            zf.extract(name, images)
    files = [str(images / n) for n in names]
    proc = subprocess.run([sys.executable, "predict.py", *files], cwd=unpacked, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    classes = set(metrics["class_names"])
    assert len(lines) == len(files)
    for line, file in zip(lines, files, strict=True):
        path, cls, prob = line.split("\t") if "\t" in line else line.split()
        assert path == file and cls in classes and 0.0 < float(prob) <= 1.0
