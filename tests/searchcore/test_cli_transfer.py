"""``python -m searchcore train`` on another dataset and at another size (transfer), and its flags' errors."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from searchcore.cli.app import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CIFAR, GRAY = FIXTURES / "cifar10_tiny_png.zip", FIXTURES / "gray28_png.zip"


@pytest.fixture(scope="module")
def result_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished CLI search (enas-micro, tiny CIFAR at 16 px): its result.json."""
    out = tmp_path_factory.mktemp("cli-transfer") / "search"
    code = main(["search", "--space", "enas-micro", "--data", str(CIFAR), "--space-option", "channels=4",
                 "--space-option", "cells_per_stage=1", "--space-option", "num_nodes=2", "--max-epochs", "1",
                 "--batch-size", "16", "--controller-steps", "2", "--image-size", "16", "--device", "cpu",
                 "--out", str(out)])
    assert code == 0
    return out / "result.json"


def _train(result_json: Path, out: Path, data: Path, *flags: str) -> int:
    return main(["train", "--arch", str(result_json), "--data", str(data), "--epochs", "1",
                 "--batch-size", "8", "--device", "cpu", "--out", str(out), *flags])


def test_train_on_another_dataset_with_the_size_flags(result_json: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # one epoch on 24 images can land at chance, which exits 1; the verdict has its own tests
    with mock.patch("searchcore.training.final.validation_verdict", lambda accuracy, data: None):
        code = _train(result_json, tmp_path / "t", GRAY, "--channels", "6", "--cells-per-stage", "2",
                      "--image-size", "20")
    assert code == 0, capsys.readouterr().err
    assert "training succeeded: test accuracy" in capsys.readouterr().out
    config = json.loads((tmp_path / "t" / "train_config.json").read_text())
    assert (config["child_overrides"]["channels"], config["child_overrides"]["cells_per_stage"]) == (6, 2)
    assert (config["image_size"], config["grayscale"], config["supernet"]) == (20, None, None)
    task = json.loads((tmp_path / "t" / "preprocessing.json").read_text())["task"]
    assert task == {"kind": "image", "in_channels": 1, "image_size": 20, "num_classes": 3}


def test_the_input_is_the_new_datasets_own_and_on_the_searchs_dataset_the_searchs(result_json: Path,
                                                                           tmp_path: Path) -> None:
    from searchcore.cli.app import build_parser
    from searchcore.cli.train_args import train_inputs

    search_config = json.loads(result_json.read_text())["config"]
    for data, expected in ((GRAY, (None, None, None)), (CIFAR, (16, None, str(result_json.parent)))):
        args = build_parser().parse_args(["train", "--arch", "a", "--data", str(data), "--out", "x"])
        inputs = train_inputs(args, search_config, result_json.parent)
        assert (inputs["image_size"], inputs["grayscale"], inputs["supernet"]) == expected
    args = build_parser().parse_args(["train", "--arch", "a", "--data", str(GRAY), "--out", "x",
                                      "--no-grayscale", "--image-size", "24", "--layers", "6"])
    inputs = train_inputs(args, search_config, result_json.parent)
    assert (inputs["image_size"], inputs["grayscale"]) == (24, False)
    assert (inputs["layers"], inputs["channels"], inputs["cells_per_stage"]) == (6, None, None)


@pytest.mark.parametrize(("flags", "message"), [
    (["--channels", "0"], "--channels must be between 1 and 1024, not '0'"),
    (["--channels", "wide"], "--channels must be a whole number, not 'wide'"),
    (["--cells-per-stage", "21"], "--cells-per-stage must be between 1 and 20, not '21'"),
    (["--layers", "2.5"], "--layers must be a whole number, not '2.5'"),
    (["--image-size", "4"], "--image-size must be between 8 and 512, not '4'"),
    (["--layers", "3"], "the enas-micro space cannot set layers; it can set channels, cells per stage"),
    (["--init", "supernet"], "--init supernet fine-tunes the search's supernet, which learned the search's "
                             "own dataset (cifar10_tiny_png.zip); on another dataset train from scratch"),
])
def test_bad_values_are_one_line_errors_with_exit_code_2(result_json: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str], flags: list[str],
                                                         message: str) -> None:
    assert _train(result_json, tmp_path / "t", GRAY, *flags) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not (tmp_path / "t").exists()  # refused before anything was trained or written
