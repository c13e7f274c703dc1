"""A grayscale 28x28 dataset end to end with default settings: search -> final -> package -> predict.py.

Nothing names a side or a colour: the search, the final training and the package all take the
dataset's own (1 channel, 28x28), and ``predict.py`` converts whatever image it is given.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from searchcore.config import SearchConfig
from searchcore.export.package import export_package
from searchcore.search.loop import run_search
from searchcore.search.setup import build_parts
from searchcore.spaces.base import IMAGE
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.trainers import trainer_for

GRAY = Path(__file__).resolve().parents[1] / "fixtures" / "gray28_png.zip"
CLASSES = ["bottom", "middle", "top"]
SMALL = {"channels": 4, "cells_per_stage": 1}


def _config(**over: object) -> SearchConfig:
    settings = {"space": "nb201", "data": str(GRAY), "space_options": SMALL, "max_epochs": 1,
                "batch_size": 8, "controller_steps_per_epoch": 2, "derive_samples": 2, "device": "cpu",
                **over}
    return SearchConfig(**settings)  # type: ignore[arg-type]


def test_a_default_search_loads_one_channel_28x28_tensors() -> None:
    parts = build_parts(_config(), torch.device("cpu"), should_stop=lambda: False,
                        on_step=lambda done, total: None, budget_fraction=lambda: 0.0)
    assert parts.data.train.images.shape[1:] == (1, 28, 28)
    assert parts.data.task().in_channels == 1 and parts.data.task().image_size == 28
    stem = next(m for m in parts.evaluator.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert stem.in_channels == 1  # the supernet is built for the native input


def test_explicit_settings_still_win_in_a_search() -> None:
    parts = build_parts(_config(image_size=16, grayscale=False), torch.device("cpu"),
                        should_stop=lambda: False, on_step=lambda done, total: None,
                        budget_fraction=lambda: 0.0)
    assert parts.data.train.images.shape[1:] == (3, 16, 16)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("native")
    torch.set_num_threads(1)
    result = run_search(_config(), root / "search")
    assert result.status == "succeeded", result.message
    assert result.config["image_size"] is None and result.config["grayscale"] is None  # stored as "auto"
    final = train_final(FinalConfig(arch=result.to_dict(), data=str(GRAY), epochs=1, batch_size=8,
                                    device="cpu", **SMALL), root / "final")
    assert final.status == "succeeded"
    unpacked = root / "pkg"
    with zipfile.ZipFile(export_package(root / "final", root / "package.zip")) as zf:
        zf.extractall(unpacked)
    return unpacked


def test_the_package_keeps_the_native_input(package: Path) -> None:
    prep = json.loads((package / "preprocessing.json").read_text())
    assert (prep["image_size"], prep["channels"], prep["grayscale"]) == (28, 1, True)
    assert prep["task"]["in_channels"] == 1 and len(prep["mean"]) == len(prep["std"]) == 1
    assert prep["class_names"] == CLASSES
    shape = ort.InferenceSession(str(package / "model.onnx")).get_inputs()[0].shape
    assert shape[1:] == [1, 28, 28]
    readme = (package / "README.md").read_text()
    assert "28×28 grayscale" in readme


def test_predict_classifies_a_grayscale_and_a_colour_png(package: Path, tmp_path: Path) -> None:
    gray = tmp_path / "gray.png"
    Image.fromarray(np.full((28, 28), 40, dtype=np.uint8)).save(gray)
    colour = tmp_path / "colour.png"  # another size and three channels: predict.py converts both
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(colour)
    proc = subprocess.run([sys.executable, str(package / "predict.py"), "--json", "--top", "3", str(gray),
                           str(colour)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(gray), str(colour)]
    for line in lines:
        predictions = line["predictions"]
        assert sorted(p["class"] for p in predictions) == CLASSES
        assert abs(sum(p["probability"] for p in predictions) - 1.0) < 1e-3
        assert all(0.0 <= p["probability"] <= 1.0 for p in predictions)


def test_final_training_resolves_auto_inputs_and_a_test_zip_follows_the_training_data(tmp_path: Path) -> None:
    """A colour 32x32 test zip is read at the training data's native input, not at its own."""
    test_zip = tmp_path / "colour_test.zip"
    with zipfile.ZipFile(GRAY) as src, zipfile.ZipFile(test_zip, "w") as dst:
        for name in src.namelist():
            img = Image.open(io.BytesIO(src.read(name))).convert("RGB").resize((32, 32))
            buffer = io.BytesIO()
            img.save(buffer, format="PNG")
            dst.writestr(name, buffer.getvalue())
    arch = {"space": "nb201", "edges": ["nor_conv_3x3"] * 6}
    config = FinalConfig(arch=arch, data=str(GRAY), test_data=str(test_zip), epochs=1, **SMALL)
    data = trainer_for(IMAGE).load_data(config)
    assert data.train.images.shape[1:] == data.test.images.shape[1:] == (1, 28, 28)
    assert len(data.test.labels) == 24
    assert trainer_for(IMAGE).preprocessing(data, config)["grayscale"] is True
