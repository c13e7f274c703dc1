"""Exporting the trained network (ONNX and a PyTorch program) and checking each export.

Every export is checked against the eager PyTorch network on real test images, at the full
sample batch and at batch 1 (the batch axis is dynamic). ONNX: the dynamo exporter
(``torch.export`` + onnxscript) first; the TorchScript exporter only when the dynamo one raises or
its graph disagrees with PyTorch. PyTorch form: ``torch.export`` (``model.pt2``), else
TorchScript tracing (``model.ts``).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from searchcore.data.loader import normalize
from searchcore.training.io import logits_of

logger = logging.getLogger(__name__)

OPSET = 18
TOLERANCE = 1e-4
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


class ExportMismatchError(RuntimeError):
    """An exported model's outputs differ from PyTorch's by more than the tolerance."""


class _LogitsOnly(nn.Module):
    """Exports see one output even if a child returns ``(logits, aux)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return logits_of(self.model(x))


def normalise_samples(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float32 normalised with the training loader's own function."""
    return normalize(images, mean, std).contiguous()


@torch.no_grad()
def _reference(model: nn.Module, samples: torch.Tensor) -> list[tuple[torch.Tensor, np.ndarray]]:
    """``[(input, PyTorch logits)]`` for the whole sample batch and for a batch of one."""
    batches = [samples, samples[:1]]
    return [(x, model(x).float().numpy()) for x in batches]


def export_onnx(model: nn.Module, samples: torch.Tensor, path: Path) -> dict[str, Any]:
    """Write ``path`` and return ``{"onnx_exporter", "onnx_opset", "onnx_max_abs_diff", ...}``."""
    wrapped = _LogitsOnly(model).eval()
    reference = _reference(wrapped, samples)
    errors: list[str] = []
    for exporter in ("dynamo", "torchscript"):
        try:
            _onnx_export(wrapped, samples, path, dynamo=exporter == "dynamo")
            diff = _check_onnx(path, reference)
        except Exception as exc:  # noqa: BLE001 - any exporter failure means: try the other one
            logger.warning("ONNX export with the %s exporter failed: %s", exporter, exc)
            errors.append(f"{exporter}: {exc}")
            continue
        return {"onnx_exporter": exporter, "onnx_opset": OPSET, "onnx_max_abs_diff": diff,
                "onnx_tolerance": TOLERANCE, "verified_on_images": int(samples.shape[0]),
                "onnx_input": INPUT_NAME, "onnx_output": OUTPUT_NAME,
                "onnx_fallback_reason": errors[0] if errors else None}
    raise ExportMismatchError("could not export a verified ONNX model: " + " | ".join(errors))


def _onnx_export(model: nn.Module, samples: torch.Tensor, path: Path, *, dynamo: bool) -> None:
    path.unlink(missing_ok=True)
    example = (samples[:2] if samples.shape[0] >= 2 else samples.repeat(2, 1, 1, 1)).contiguous()
    with _quiet():
        if dynamo:
            program = torch.onnx.export(model, (example,), dynamo=True, opset_version=OPSET,
                                        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
            program.save(str(path), external_data=False)
        else:
            torch.onnx.export(model, (example,), str(path), dynamo=False, opset_version=OPSET,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})


def _check_onnx(path: Path, reference: list[tuple[torch.Tensor, np.ndarray]]) -> float:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    diffs = [float(np.abs(session.run(None, {name: x.numpy()})[0] - ref).max()) for x, ref in reference]
    worst = max(diffs)
    if not worst <= TOLERANCE:  # also catches NaN
        raise ExportMismatchError(f"ONNX Runtime logits differ from PyTorch by {worst:.3g} > {TOLERANCE}")
    return worst


def export_pytorch(model: nn.Module, samples: torch.Tensor, stage: Path) -> dict[str, Any]:
    """``model.pt2`` via ``torch.export``; ``model.ts`` (TorchScript trace) if that fails."""
    wrapped = _LogitsOnly(model).eval()
    reference = _reference(wrapped, samples)
    example = (samples[:2] if samples.shape[0] >= 2 else samples.repeat(2, 1, 1, 1)).contiguous()
    try:
        with _quiet():
            batch = torch.export.Dim("batch")
            program = torch.export.export(wrapped, (example,), dynamic_shapes=({0: batch},))
            torch.export.save(program, str(stage / "model.pt2"))
            loaded = torch.export.load(str(stage / "model.pt2")).module()
        diff = _max_diff(loaded, reference)
        return {"pytorch_file": "model.pt2", "pytorch_form": "torch.export", "pytorch_max_abs_diff": diff,
                "torch_version": torch.__version__.split("+")[0]}
    except Exception as exc:  # noqa: BLE001 - fall back to TorchScript, recorded in export.json/README
        logger.warning("torch.export failed (%s); writing TorchScript instead", exc)
        (stage / "model.pt2").unlink(missing_ok=True)
        fallback_reason = str(exc)
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(wrapped, (example,))
        torch.jit.save(traced, str(stage / "model.ts"))
        loaded = torch.jit.load(str(stage / "model.ts"))
    diff = _max_diff(loaded, reference)
    return {"pytorch_file": "model.ts", "pytorch_form": "torchscript", "pytorch_max_abs_diff": diff,
            "torch_version": torch.__version__.split("+")[0], "torch_export_error": fallback_reason[:500]}


@torch.no_grad()
def _max_diff(module: Any, reference: list[tuple[torch.Tensor, np.ndarray]]) -> float:
    worst = max(float(np.abs(module(x).float().numpy() - ref).max()) for x, ref in reference)
    if not worst <= TOLERANCE:
        raise ExportMismatchError(f"the exported PyTorch program differs from the network by {worst:.3g}")
    return worst


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters warn about optional packages (torchvision ops) and legacy paths; keep logs clean."""
    names = ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir")
    noisy = [logging.getLogger(n) for n in names]
    levels = [log.level for log in noisy]
    for log in noisy:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for log, level in zip(noisy, levels, strict=True):
            log.setLevel(level)
