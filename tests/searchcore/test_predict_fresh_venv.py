"""The download package in a brand-new virtual environment: only requirements.txt, no torch."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from searchcore.data.images import decode_image
from searchcore.data.loader import normalize
from searchcore.export.package import export_package
from searchcore.spaces import create_space
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.io import load_trained
from tests.searchcore.conftest import assert_predicts_the_networks_next_words

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
LM_OPTIONS = {"num_nodes": 4, "hidden_size": 16}
ARCH = {"space": "nb201", "edges": ["nor_conv_3x3", "nor_conv_1x1", "skip_connect",
                                    "avg_pool_3x3", "nor_conv_3x3", "nor_conv_3x3"]}
LINE = re.compile(r"^(?P<file>[^\t]+)\t(?P<cls>[^\t]+)\t(?P<prob>[01]\.\d{4})$")
NETWORK_ERRORS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name",
                  "Name or service not known", "Network is unreachable", "ConnectTimeout", "ProxyError",
                  "Could not fetch URL", "Max retries exceeded")

pytestmark = pytest.mark.slow


def _pip_install(python: Path, requirements: Path) -> None:
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                             "-r", str(requirements)], capture_output=True, text=True, timeout=900)
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    if any(sign in output for sign in NETWORK_ERRORS):
        pytest.skip(f"pip cannot reach a package index: {output.strip().splitlines()[-1][:200]}")
    pytest.fail(f"pip install -r requirements.txt failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """A brand-new virtual environment shared by the module's packages (each installs its own
    requirements.txt into it; the second install finds most of it there)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv / "bin" / "python"


def _trained_package(config: FinalConfig, root: Path, python: Path) -> Path:
    """Train, export and unzip the package, then install its requirements into ``python``'s venv."""
    torch.set_num_threads(1)
    train_final(config, root / "train")
    pkg = root / "pkg"
    with zipfile.ZipFile(export_package(root / "train", root / "pkg.zip")) as zf:
        zf.extractall(pkg)
    _pip_install(python, pkg / "requirements.txt")
    no_torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True, timeout=60)
    assert no_torch.returncode != 0  # the package really runs without PyTorch
    return pkg


def test_predict_runs_in_a_fresh_venv(tmp_path, fresh_python):
    config = FinalConfig(arch=ARCH, data=str(FIXTURE), epochs=1, image_size=16, channels=4,
                         cells_per_stage=1, batch_size=16)
    pkg = _trained_package(config, tmp_path, fresh_python)
    python = fresh_python

    images = []
    with zipfile.ZipFile(FIXTURE) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".png"))[::40][:3]:
            path = tmp_path / name.replace("/", "_")
            path.write_bytes(zf.read(name))
            images.append(path)
    result = subprocess.run([str(python), str(pkg / "predict.py"), *map(str, images)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3

    model, prep, _ = load_trained(tmp_path / "train")
    arrays = [decode_image(p.read_bytes(), size=16, grayscale=False, max_pixels=10**8)[0] for p in images]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    x = normalize(batch, prep["mean"], prep["std"])
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)
    for line, path, p in zip(lines, images, probs, strict=True):
        m = LINE.match(line)
        assert m and m["file"] == str(path), line
        assert m["cls"] == prep["class_names"][int(p.argmax())]
        assert abs(float(m["prob"]) - float(p.max())) <= 1.5e-4


def test_the_language_package_predicts_next_words_in_a_fresh_venv(tmp_path, fresh_python):
    """Issue 9: the language model's download runs from the unzipped package with only its
    requirements.txt, and its probabilities are the trained network's."""
    space = create_space("enas-rnn", **LM_OPTIONS)
    arch = {"space": "enas-rnn", **space.arch_to_json(space.sample_random(torch.Generator().manual_seed(3)))}
    config = FinalConfig(arch=arch, data=str(CORPUS), epochs=1, batch_size=4, space_options=LM_OPTIONS)
    pkg = _trained_package(config, tmp_path, fresh_python)
    result = subprocess.run([str(fresh_python), str(pkg / "predict.py"), "--top", "3", "the game was"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_predicts_the_networks_next_words(tmp_path / "train", result.stdout)
