from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from safetensors.torch import load_file, save_file

from searchcore.data.dataset import load_image_dataset
from searchcore.data.images import decode_image
from searchcore.data.loader import normalize
from searchcore.export.package import export_package
from searchcore.spaces import TaskSpec, create_space, list_spaces, space_class
from searchcore.spaces.base import IMAGE
from searchcore.training.final import FinalConfig, preprocessing_of, train_final
from searchcore.training.io import load_trained, write_json
from searchcore.training.metrics import classification_metrics

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
NB201_ARCH = {"space": "nb201", "edges": ["nor_conv_3x3", "avg_pool_3x3", "skip_connect",
                                          "nor_conv_1x1", "nor_conv_3x3", "nor_conv_3x3"]}
PACKAGE_FILES = ["MANIFEST.sha256", "README.md", "architecture.json", "export.json", "image_decode.py",
                 "metrics.json", "model.onnx", "model.pt2", "predict.py", "preprocessing.json",
                 "requirements.txt", "weights.safetensors"]
LINE = re.compile(r"^(?P<file>[^\t]+)\t(?P<cls>[^\t]+)\t(?P<prob>[01]\.\d{4})$")


@pytest.fixture(scope="module")
def dataset():
    return load_image_dataset(FIXTURE, image_size=16)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=1, image_size=16, channels=4,
                         cells_per_stage=1, batch_size=16)
    train_final(config, root / "train")
    zip_path = export_package(root / "train", root / "pkg.zip")
    unpacked = root / "unpacked"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(unpacked)
    return root / "train", zip_path, unpacked


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Three real fixture PNGs of different classes, as files."""
    folder = tmp_path_factory.mktemp("images")
    paths = []
    with zipfile.ZipFile(FIXTURE) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".png"))
        for name in (names[0], names[35], names[77]):
            target = folder / name.replace("/", "_")
            target.write_bytes(zf.read(name))
            paths.append(target)
    return paths


def run_predict(pkg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(pkg / "predict.py"), *args], capture_output=True, text=True,
                          timeout=120, cwd=pkg.parent)


def torch_probs(train_dir: Path, files: list[Path]) -> np.ndarray:
    """PyTorch probabilities on ``files`` through the training pipeline's decoder and normaliser."""
    model, prep, _ = load_trained(train_dir)
    arrays = [decode_image(p.read_bytes(), size=prep["image_size"], grayscale=False, max_pixels=10**8)[0]
              for p in files]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        return torch.softmax(model(normalize(batch, prep["mean"], prep["std"])), dim=1).numpy()


# -- the zip ----------------------------------------------------------------------------------
def test_zip_holds_every_file_in_sorted_order(package):
    _, zip_path, _ = package
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.namelist() == PACKAGE_FILES
        assert zf.testzip() is None
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_manifest_verifies(package):
    _, _, pkg = package
    lines = (pkg / "MANIFEST.sha256").read_text().splitlines()
    names = [line.split("  ", 1)[1] for line in lines]
    assert names == [n for n in PACKAGE_FILES if n != "MANIFEST.sha256"]
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((pkg / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=pkg, check=True)


def test_contents_describe_the_trained_model(package):
    train_dir, _, pkg = package
    for name in ("architecture.json", "preprocessing.json", "metrics.json"):
        assert (pkg / name).read_bytes() == (train_dir / name).read_bytes()
    assert (pkg / "requirements.txt").read_text().split() == [
        f"numpy=={np.__version__}", f"onnxruntime=={ort.__version__}", f"pillow=={_pillow_version()}"]
    info = json.loads((pkg / "export.json").read_text())
    assert info["onnx_exporter"] == "dynamo" and info["onnx_opset"] >= 17
    assert info["onnx_max_abs_diff"] <= 1e-4 and info["pytorch_file"] == "model.pt2"
    metrics = json.loads((pkg / "metrics.json").read_text())
    readme = (pkg / "README.md").read_text()
    assert f"{100 * metrics['test_accuracy']:.2f}%" in readme and "python predict.py" in readme
    assert "$" not in readme  # every template field was filled
    state = torch.load(train_dir / "model.pt", weights_only=True)
    weights = load_file(str(pkg / "weights.safetensors"))
    assert weights.keys() == state.keys() and all(torch.equal(weights[k], state[k]) for k in state)
    assert (pkg / "image_decode.py").read_bytes() == Path(decode_image.__code__.co_filename).read_bytes()


def _pillow_version() -> str:
    from importlib.metadata import version

    return version("pillow")


def test_onnx_matches_pytorch_on_real_test_images(package, dataset):
    train_dir, _, pkg = package
    model, prep, _ = load_trained(train_dir)
    x = normalize(dataset.test.images, prep["mean"], prep["std"])
    session = ort.InferenceSession(str(pkg / "model.onnx"), providers=["CPUExecutionProvider"])
    for batch in (x, x[:1], x[:3]):  # the batch axis is dynamic
        with torch.no_grad():
            expected = model(batch).numpy()
        got = session.run(None, {session.get_inputs()[0].name: batch.numpy()})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-4
    program = torch.export.load(str(pkg / "model.pt2")).module()
    with torch.no_grad():
        assert torch.allclose(program(x), model(x), atol=1e-5)


# -- predict.py ---------------------------------------------------------------------------------
def test_predict_prints_one_line_per_file_matching_pytorch(package, images, dataset):
    train_dir, _, pkg = package
    result = run_predict(pkg, *map(str, images))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    probs = torch_probs(train_dir, images)
    classes = dataset.class_names
    for line, path, p in zip(lines, images, probs, strict=True):
        m = LINE.match(line)
        assert m, line
        assert m["file"] == str(path)
        assert m["cls"] == classes[int(p.argmax())]
        assert abs(float(m["prob"]) - float(p.max())) <= 1e-4 + 5e-5  # printed with 4 decimals


def test_predict_json_probabilities_equal_pytorch(package, images):
    train_dir, _, pkg = package
    result = run_predict(pkg, "--json", "--top", "10", *map(str, images))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    classes = json.loads((pkg / "preprocessing.json").read_text())["class_names"]
    for row, p in zip(rows, torch_probs(train_dir, images), strict=True):
        got = {pred["class"]: pred["probability"] for pred in row["predictions"]}
        assert len(got) == 10
        assert max(abs(got[c] - float(p[i])) for i, c in enumerate(classes)) <= 1e-4


def test_predict_inputs_are_the_training_inputs(images, dataset):
    """The decoder predict.py ships is the one the dataset was built with: same pixels."""
    every = torch.cat([dataset.train.images, dataset.valid.images, dataset.test.images])
    for path in images:
        arr = decode_image(path.read_bytes(), size=16, grayscale=False, max_pixels=10**8)[0]
        found = (every == torch.from_numpy(arr.copy()).permute(2, 0, 1)).flatten(1).all(1)
        assert found.any(), path


def test_predict_top_k_bad_file_and_exit_code(package, images, tmp_path):
    _, _, pkg = package
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    missing = tmp_path / "missing.png"
    result = run_predict(pkg, "--top", "3", str(images[0]), str(bad), str(missing), str(images[1]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    first = lines[0].split("\t")
    assert len(first) == 7 and first[0] == str(images[0])
    probs = [float(v) for v in first[2::2]]
    assert probs == sorted(probs, reverse=True)
    assert lines[1].startswith(f"{bad}\tERROR\t") and "not a readable image" in lines[1]
    assert lines[2].startswith(f"{missing}\tERROR\t")
    assert lines[3].startswith(f"{images[1]}\t") and len(lines[3].split("\t")) == 7


def test_predict_verify_detects_a_changed_file(package, images, tmp_path):
    _, _, pkg = package
    copy = tmp_path / "pkg"
    shutil.copytree(pkg, copy)
    assert run_predict(copy, "--verify", str(images[0])).returncode == 0
    (copy / "metrics.json").write_text("{}")
    result = run_predict(copy, "--verify", str(images[0]))
    assert result.returncode == 2 and "metrics.json" in result.stderr


def test_predict_does_not_need_torch(package, images):
    _, _, pkg = package
    code = ("import runpy, sys; sys.modules['torch'] = None; sys.modules['searchcore'] = None; "
            f"sys.argv = ['predict.py', {str(images[0])!r}]; "
            f"runpy.run_path({str(pkg / 'predict.py')!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert LINE.match(result.stdout.strip())


def test_export_refuses_an_unfinished_training_dir(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        export_package(tmp_path, tmp_path / "x.zip")


# -- every registered space exports and verifies ----------------------------------------------------
def _tiny_options(name: str) -> dict:
    options = {}
    for spec in space_class(name).option_specs():
        if spec.type == "int" and spec.name in ("channels", "cells_per_stage", "num_layers", "layers",
                                                "num_nodes", "num_cells"):
            small = 4 if spec.name == "channels" else 2 if spec.name == "num_nodes" else 1
            options[spec.name] = int(max(spec.minimum or 1, small))
    return options


def _fake_train_dir(name: str, root: Path, dataset) -> Path:
    """A training directory with a randomly initialised child (BN statistics from real images)."""
    options = _tiny_options(name)
    space = create_space(name, **options)
    arch = space.sample_random(torch.Generator().manual_seed(3))
    model = space.build_child(arch, TaskSpec(3, 16, 10))
    x = normalize(dataset.train.images[:32], dataset.mean, dataset.std)
    model.train()
    with torch.no_grad():
        model(x)  # running statistics that are not the identity
    model.eval()
    with torch.no_grad():
        out = model(normalize(dataset.test.images, dataset.mean, dataset.std))
    out = out[0] if isinstance(out, tuple) else out
    y_true, y_pred = dataset.test.labels.tolist(), out.argmax(1).tolist()
    metrics = classification_metrics(y_true, y_pred, dataset.class_names)
    root.mkdir(parents=True)
    torch.save(model.state_dict(), root / "model.pt")
    write_json(root / "architecture.json", space.arch_to_json(arch))
    write_json(root / "preprocessing.json", preprocessing_of(dataset, False))
    write_json(root / "metrics.json", {"test_accuracy": metrics["accuracy"], **metrics})
    write_json(root / "train_config.json", {"space_options": options, "child_overrides": {}})
    save_file({"images": dataset.test.images.contiguous(), "labels": dataset.test.labels.contiguous()},
              str(root / "test_samples.safetensors"))
    return root


@pytest.mark.parametrize("name", [n for n in list_spaces() if space_class(n).task_kind == IMAGE])
def test_every_space_child_exports_and_matches(name, tmp_path, dataset):
    """Every image space; a language space's package (one recurrence step) is test_export_language.py's."""
    train_dir = _fake_train_dir(name, tmp_path / "train", dataset)
    zip_path = export_package(train_dir, tmp_path / "out")
    assert zip_path == tmp_path / "out" / "model_package.zip"
    with zipfile.ZipFile(zip_path) as zf:
        info = json.loads(zf.read("export.json"))
        onnx_bytes = zf.read("model.onnx")
        names = zf.namelist()
    assert info["onnx_max_abs_diff"] <= 1e-4 and info["pytorch_file"] in names
    model, prep, _ = load_trained(train_dir)
    x = normalize(dataset.test.images, prep["mean"], prep["std"])
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(x).numpy()
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert np.abs(got - expected).max() <= 1e-4


def test_zip_and_manifest_are_deterministic(tmp_path):
    from searchcore.export.package import _zip_dir, write_manifest

    folder = tmp_path / "stage"
    folder.mkdir()
    for name, text in (("b.txt", "bee"), ("a.json", "{}"), ("predict.py", "print(1)")):
        (folder / name).write_text(text)
    manifest = write_manifest(folder).read_text()
    assert manifest == "".join(f"{hashlib.sha256(t.encode()).hexdigest()}  {n}\n"
                               for n, t in (("a.json", "{}"), ("b.txt", "bee"), ("predict.py", "print(1)")))
    _zip_dir(folder, tmp_path / "one.zip")
    _zip_dir(folder, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        assert zf.namelist() == ["MANIFEST.sha256", "a.json", "b.txt", "predict.py"]
