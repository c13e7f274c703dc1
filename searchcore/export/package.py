"""The download package (design §5): a zip that runs without this app.

``export_package(train_dir, out)`` rebuilds the trained network from a ``train_final`` directory and
writes a zip holding (in this order, every name sorted):

- ``MANIFEST.sha256`` — sha256 of every other file, ``sha256sum -c`` format;
- ``README.md`` — what the model is, its test accuracy, how to run it;
- ``architecture.json``, ``preprocessing.json``, ``metrics.json`` — copied from training;
- ``export.json`` — which ONNX exporter and PyTorch form were used, and the verification figures;
- ``image_decode.py`` — a verbatim copy of ``searchcore/data/images.py`` (the training decoder), so
  ``predict.py`` prepares a file exactly as training did;
- ``model.onnx`` — ``torch.onnx.export`` (dynamo exporter first, the TorchScript exporter only if
  that fails), dynamic batch axis, opset 18, checked with ONNX Runtime against PyTorch on real test
  images: a max |logit difference| above 1e-4 is an error, never a silent package;
- ``model.pt2`` — a ``torch.export`` program (``torch.export.load``); if ``torch.export`` cannot
  capture the network, ``model.ts`` (TorchScript) instead, and the README says so;
- ``predict.py``, ``requirements.txt`` (onnxruntime, numpy, pillow pinned to the versions the
  package was verified with) and ``weights.safetensors`` (the ``state_dict``).

What depends on the task kind (verification inputs, decoder, ``predict.py``, requirements, README)
comes from the kind's exporter (``export.kinds``; the list above is the image package).

Entries carry a fixed timestamp, so two exports of the same files give identical zip metadata.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from searchcore.export.kinds import Exporter, exporter_for
from searchcore.export.onnx import export_onnx, export_pytorch
from searchcore.files import atomic_write
from searchcore.training.io import load_trained, read_json, task_of, write_json

logger = logging.getLogger(__name__)

COPIED = ("architecture.json", "preprocessing.json", "metrics.json")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
DEFAULT_NAME = "model_package.zip"


def export_package(train_dir: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Build the package zip from ``train_dir``; returns its path.

    ``out`` ending in ``.zip`` is the zip's path; anything else is a folder (created if needed)
    that receives ``model_package.zip``.
    """
    train_dir = Path(train_dir)
    target = _target_path(Path(out))
    model, prep, cfg = load_trained(train_dir)
    exporter = exporter_for(task_of(prep).kind)
    samples = exporter.samples(train_dir, prep)
    with tempfile.TemporaryDirectory(prefix="nas-export-") as tmp:
        stage = Path(tmp)
        info = _write_models(model, samples, stage, exporter)
        _write_files(exporter, train_dir, stage, prep, cfg, info)
        write_manifest(stage)
        _zip_dir(stage, target)
    logger.info("wrote the package %s (onnx via %s, %s)", target, info["onnx_exporter"], info["pytorch_file"])
    return target


def _target_path(out: Path) -> Path:
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    return out / DEFAULT_NAME


def _write_models(model: nn.Module, samples: torch.Tensor, stage: Path, exporter: Exporter) -> dict[str, Any]:
    """ONNX + PyTorch program (the kind's own ``export_models`` when it has one: a language model
    exports one recurrence step), then the weights."""
    custom = getattr(exporter, "export_models", None)
    if callable(custom):
        info = custom(model, samples, stage)
    else:
        info = export_onnx(model, samples, stage / "model.onnx")
        info.update(export_pytorch(model, samples, stage))
    info["num_parameters"] = sum(p.numel() for p in model.parameters())
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(stage / "weights.safetensors"))
    return info


def _write_files(exporter: Exporter, train_dir: Path, stage: Path, prep: dict[str, Any], cfg: dict[str, Any],
                 info: dict[str, Any]) -> None:
    for name in COPIED:
        (stage / name).write_bytes((train_dir / name).read_bytes())
    for name, content in exporter.files(prep).items():
        (stage / name).write_bytes(content)
    (stage / "requirements.txt").write_text(exporter.requirements(), encoding="utf-8")
    write_json(stage / "export.json", info)
    metrics = read_json(stage / "metrics.json")
    arch = read_json(stage / "architecture.json")
    (stage / "README.md").write_text(exporter.readme(arch, prep, metrics, cfg, info), encoding="utf-8")


def write_manifest(folder: Path) -> Path:
    """``MANIFEST.sha256`` over every other file of ``folder`` (sorted; ``sha256sum -c`` format)."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "MANIFEST.sha256"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}\n")
    manifest = folder / "MANIFEST.sha256"
    manifest.write_text("".join(lines), encoding="utf-8")
    return manifest


def _zip_dir(folder: Path, target: Path) -> None:
    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = (0o755 if path.suffix == ".py" else 0o644) << 16
                zf.writestr(entry, path.read_bytes())

    atomic_write(target, write)
