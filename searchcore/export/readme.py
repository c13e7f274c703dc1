"""Text files of the download package: ``README.md`` (from the template) and ``requirements.txt``."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "template" / "README.md"
RUNTIME_PACKAGES = ("numpy", "onnxruntime", "pillow")


def requirements_text() -> str:
    """``predict.py``'s dependencies pinned to the versions the package was verified with.

    Pillow is pinned too because its resampling code decides the exact input pixels.
    """
    return "".join(f"{name}=={metadata.version(name)}\n" for name in RUNTIME_PACKAGES)


def render_readme(arch: dict[str, Any], prep: dict[str, Any], metrics: dict[str, Any], cfg: dict[str, Any],
                  info: dict[str, Any]) -> str:
    classes = [str(c) for c in prep["class_names"]]
    shown = ", ".join(f"`{c}`" for c in classes[:20])
    if len(classes) > 20:
        shown += f" and {len(classes) - 20} more"
    grayscale = int(prep["channels"]) == 1
    values = {
        "title": f"{arch['space']} image classifier",
        "space": arch["space"],
        "params": f"{info.get('num_parameters', 0):,}",
        "image_size": prep["image_size"],
        "channels": prep["channels"],
        "color": "grayscale" if grayscale else "colour",
        "mode": "8-bit grayscale" if grayscale else "RGB",
        "num_classes": len(classes),
        "classes": shown,
        "test_accuracy": f"{100 * float(metrics.get('test_accuracy') or 0.0):.2f}%",
        "num_test": metrics.get("num_samples", 0),
        "test_note": "the validation split (the dataset had no test images)"
        if metrics.get("evaluated_on") == "valid" else "the test split (never used in training)",
        "macro_f1": f"{float((metrics.get('macro') or {}).get('f1', 0.0)):.3f}",
        "opset": info["onnx_opset"],
        "onnx_input": info["onnx_input"],
        "onnx_output": info["onnx_output"],
        "onnx_exporter": "dynamo (`torch.export`)" if info["onnx_exporter"] == "dynamo" else "TorchScript",
        "verified": info["verified_on_images"],
        "onnx_diff": f"{info['onnx_max_abs_diff']:.1e}",
        "pytorch_file": info["pytorch_file"],
        "pytorch_text": _pytorch_text(info),
        "training": _training_text(metrics, cfg),
    }
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)


def _pytorch_text(info: dict[str, Any]) -> str:
    version = info.get("torch_version", "")
    if info["pytorch_file"] == "model.pt2":
        return (f"the network as a `torch.export` program (PyTorch {version}): "
                "`torch.export.load('model.pt2').module()(x)`")
    return (f"the network as TorchScript (PyTorch {version}): `torch.jit.load('model.ts')(x)`; "
            "`torch.export` could not capture this network, so there is no `model.pt2`")


def _training_text(metrics: dict[str, Any], cfg: dict[str, Any]) -> str:
    epochs = metrics.get("epochs_run", 0)
    best = metrics.get("best_epoch")
    weights = (f"the weights of epoch {best}, the best on the validation split"
               if metrics.get("weights") == "best_valid" else "the weights of the last epoch")
    parts = [
        f"Trained from scratch for {epochs} epoch(s) on {metrics.get('device', 'cpu')} with SGD "
        f"(Nesterov momentum 0.9, weight decay {cfg.get('weight_decay')}), a cosine learning rate from "
        f"{cfg.get('lr')} to 0, batch size {cfg.get('batch_size')}, "
        f"ScheduledDropPath up to {cfg.get('drop_path')}",
    ]
    if cfg.get("cutout"):
        parts.append(f", cutout {cfg['cutout']} px")
    if cfg.get("aux_head"):
        parts.append(f", an auxiliary head (loss weight {cfg.get('aux_weight')})")
    parts.append(f"; random crop and horizontal flip. The package holds {weights}.")
    return "".join(parts)
