"""The language model's package: one ONNX step checked over real text, the vocabulary, ``predict.py``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from searchcore.export.package import export_package
from searchcore.spaces import create_space
from searchcore.training import FinalConfig, train_final
from searchcore.training.io import load_trained
from tests.searchcore.conftest import assert_predicts_the_networks_next_words

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
OPTIONS = {"num_nodes": 5, "hidden_size": 16}
FILES = ["MANIFEST.sha256", "README.md", "architecture.json", "export.json", "metrics.json", "model.onnx",
         "model.pt2", "predict.py", "preprocessing.json", "requirements.txt", "weights.safetensors"]
# predict.py must run without PyTorch: the interpreter is told that torch cannot be imported
NO_TORCH = "import runpy, sys; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; " \
           "runpy.run_path(sys.argv[0], run_name='__main__')"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm-export")
    space = create_space("enas-rnn", **OPTIONS)
    arch = space.arch_to_json(space.sample_random(torch.Generator().manual_seed(5)))
    train_final(FinalConfig(arch=arch, data=str(CORPUS), epochs=1, batch_size=4, space_options=OPTIONS),
                root / "train")
    zip_path = export_package(root / "train", root / "pkg.zip")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        zf.extractall(root / "pkg")
    return root / "train", root / "pkg", names


def predict(pkg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TORCH, str(pkg / "predict.py"), *args],
                          capture_output=True, text=True, timeout=120, cwd=pkg)


def test_the_package_holds_one_verified_step_and_the_vocabulary(package):
    train, pkg, names = package
    assert sorted(names) == FILES
    info = json.loads((pkg / "export.json").read_text())
    assert info["onnx_form"] == "one recurrence step" and info["onnx_max_abs_diff"] <= 1e-4
    assert info["pytorch_max_abs_diff"] <= 1e-4 and info["verified_on_tokens"] > 0
    prep = json.loads((pkg / "preprocessing.json").read_text())
    assert prep["vocab"] == json.loads((train / "preprocessing.json").read_text())["vocab"]
    assert (pkg / "requirements.txt").read_text().splitlines()[0].startswith("numpy==")
    assert "Test perplexity" in (pkg / "README.md").read_text()


def test_the_onnx_step_unrolled_over_a_sentence_is_the_trained_network(package):
    train, pkg, _ = package
    model, prep, _ = load_trained(train)
    index = {w: i for i, w in enumerate(prep["vocab"])}
    words = ["<eos>", "Valkyria", "Chronicles", "III", "is", "a", "tactical", "role", "@-@", "playing",
             "game"]
    tokens = torch.tensor([[index[w] for w in words]]).t()  # (seq_len, 1)
    with torch.no_grad():
        expected, expected_h = model.run_state(tokens)
    session = ort.InferenceSession(str(pkg / "model.onnx"), providers=["CPUExecutionProvider"])
    hidden = np.zeros((1, OPTIONS["hidden_size"]), dtype=np.float32)
    for t in range(len(words)):
        logits, hidden = session.run(None, {"tokens": tokens[t:t + 1].numpy(), "hidden": hidden})
        np.testing.assert_allclose(logits, expected[t].numpy(), atol=1e-4)
    np.testing.assert_allclose(hidden, expected_h.numpy(), atol=1e-4)


def test_predict_prints_the_next_words_with_their_probabilities(package):
    train, pkg, _ = package
    result = predict(pkg, "--top", "3", "the game was", "Valkyria")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert_predicts_the_networks_next_words(train, lines[0])


def test_unknown_words_are_named_and_bad_arguments_refused(package):
    _, pkg, _ = package
    result = predict(pkg, "--json", "--verify", "qwertyuiop the")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["unknown"] == ["qwertyuiop"] and len(row["predictions"]) == 5
    assert 0.0 < sum(p["probability"] for p in row["predictions"]) <= 1.0 + 1e-6
    assert predict(pkg, "--top", "0", "the").returncode == 2
    (pkg / "preprocessing.json").write_text((pkg / "preprocessing.json").read_text() + " ")
    tampered = predict(pkg, "--verify", "the")
    assert tampered.returncode == 2 and "preprocessing.json" in tampered.stderr


def test_a_training_folder_without_its_token_samples_is_refused(package, tmp_path):
    train, _, _ = package
    copy = tmp_path / "train"
    copy.mkdir()
    for path in train.iterdir():
        if path.name != "test_samples.safetensors":
            (copy / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="checked on real text"):
        export_package(copy, tmp_path / "out.zip")
