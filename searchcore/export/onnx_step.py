"""Exporting one step of a recurrent language model, checked over a real token sequence.

ONNX can express a recurrence (``Loop``/``Scan``), but ``torch.onnx``/``torch.export`` trace the
Python loop over time into a graph of fixed length, so a whole-sequence export would only accept
sentences of the traced length. The package therefore holds one *step*: ``(tokens (1, batch) int64,
hidden (batch, hidden_size) float32) -> (logits (batch, vocab), hidden_out)``, and ``predict.py``
feeds the words one at a time, carrying the state: any sentence length, exactly the trained network.

Both exports (ONNX via the dynamo exporter, the TorchScript exporter as fallback; ``model.pt2`` via
``torch.export``, TorchScript as fallback) are checked step by step against PyTorch on a window of
real test tokens, at the sample batch and at batch 1 (the batch axis is dynamic): every step's
logits and the final state within ``TOLERANCE``, else ``ExportMismatchError``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from searchcore.export.onnx import OPSET, TOLERANCE, ExportMismatchError, _quiet

logger = logging.getLogger(__name__)

INPUTS = ("tokens", "hidden")
OUTPUTS = ("logits", "hidden_out")


def _example(step: nn.Module, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    columns = tokens if tokens.shape[1] >= 2 else tokens.repeat(1, 2)
    return columns[:1, :2].contiguous(), step.child.init_hidden(2)


@torch.no_grad()
def _unroll(run: Any, tokens: torch.Tensor, size: int) -> list[np.ndarray]:
    """Every step's logits and the final state of ``run`` over ``tokens`` ``(seq_len, batch)``."""
    hidden = torch.zeros(tokens.shape[1], size)
    outs = []
    for t in range(tokens.shape[0]):
        logits, hidden = run(tokens[t:t + 1].contiguous(), hidden)
        logits, hidden = torch.as_tensor(logits), torch.as_tensor(hidden)
        outs.append(logits.float().numpy())
    outs.append(hidden.float().numpy())
    return outs


def _reference(step: nn.Module, tokens: torch.Tensor) -> list[tuple[torch.Tensor, list[np.ndarray]]]:
    size = step.child.size
    return [(x, _unroll(step, x, size)) for x in (tokens, tokens[:, :1])]


def _check(run: Any, reference: list[tuple[torch.Tensor, list[np.ndarray]]], size: int, what: str) -> float:
    worst = 0.0
    for tokens, expected in reference:
        got = _unroll(run, tokens, size)
        worst = max(worst, *(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True)))
    if not worst <= TOLERANCE:  # also catches NaN
        raise ExportMismatchError(f"{what} differs from PyTorch by {worst:.3g} > {TOLERANCE}")
    return worst


def export_step_onnx(step: nn.Module, tokens: torch.Tensor, path: Path) -> dict[str, Any]:
    """Write ``path`` (one step) and return the ``export.json`` figures."""
    step.eval()
    reference = _reference(step, tokens)
    example = _example(step, tokens)
    errors: list[str] = []
    for exporter in ("dynamo", "torchscript"):
        try:
            _onnx_export(step, example, path, dynamo=exporter == "dynamo")
            diff = _check(_ort_runner(path), reference, step.child.size, "ONNX Runtime's output")
        except Exception as exc:  # noqa: BLE001 - any exporter failure means: try the other one
            logger.warning("ONNX export of the step with the %s exporter failed: %s", exporter, exc)
            errors.append(f"{exporter}: {exc}")
            continue
        return {"onnx_exporter": exporter, "onnx_opset": OPSET, "onnx_max_abs_diff": diff,
                "onnx_tolerance": TOLERANCE, "onnx_form": "one recurrence step",
                "verified_on_tokens": int(tokens.numel()), "verified_on_images": 0,
                "onnx_input": ", ".join(INPUTS), "onnx_output": ", ".join(OUTPUTS),
                "hidden_size": int(step.child.size), "onnx_fallback_reason": errors[0] if errors else None}
    raise ExportMismatchError("could not export a verified ONNX step: " + " | ".join(errors))


def _onnx_export(step: nn.Module, example: tuple[torch.Tensor, torch.Tensor], path: Path, *,
                 dynamo: bool) -> None:
    path.unlink(missing_ok=True)
    with _quiet():
        if dynamo:
            batch = torch.export.Dim("batch")
            program = torch.onnx.export(step, example, dynamo=True, opset_version=OPSET,
                                        input_names=list(INPUTS), output_names=list(OUTPUTS),
                                        dynamic_shapes=({1: batch}, {0: batch}), verbose=False)
            program.save(str(path), external_data=False)
        else:
            torch.onnx.export(step, example, str(path), dynamo=False, opset_version=OPSET,
                              input_names=list(INPUTS), output_names=list(OUTPUTS),
                              dynamic_axes={"tokens": {1: "batch"}, "hidden": {0: "batch"},
                                            "logits": {0: "batch"}, "hidden_out": {0: "batch"}})


def _ort_runner(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(tokens: torch.Tensor, hidden: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        logits, out = session.run(None, {"tokens": tokens.numpy(), "hidden": hidden.numpy()})
        return logits, out

    return run


def export_step_pytorch(step: nn.Module, tokens: torch.Tensor, stage: Path) -> dict[str, Any]:
    """``model.pt2`` (``torch.export`` of the step); ``model.ts`` (TorchScript trace) if that fails."""
    step.eval()
    reference = _reference(step, tokens)
    example = _example(step, tokens)
    version = torch.__version__.split("+")[0]
    try:
        with _quiet():
            batch = torch.export.Dim("batch")
            program = torch.export.export(step, example, dynamic_shapes=({1: batch}, {0: batch}))
            torch.export.save(program, str(stage / "model.pt2"))
            loaded = torch.export.load(str(stage / "model.pt2")).module()
        diff = _check(loaded, reference, step.child.size, "the exported PyTorch program")
        return {"pytorch_file": "model.pt2", "pytorch_form": "torch.export", "pytorch_max_abs_diff": diff,
                "torch_version": version}
    except Exception as exc:  # noqa: BLE001 - fall back to TorchScript, recorded in export.json/README
        logger.warning("torch.export of the step failed (%s); writing TorchScript instead", exc)
        (stage / "model.pt2").unlink(missing_ok=True)
        reason = str(exc)
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(step, example)
        torch.jit.save(traced, str(stage / "model.ts"))
        loaded = torch.jit.load(str(stage / "model.ts"))
    diff = _check(loaded, reference, step.child.size, "the TorchScript program")
    return {"pytorch_file": "model.ts", "pytorch_form": "torchscript", "pytorch_max_abs_diff": diff,
            "torch_version": version, "torch_export_error": reason[:500]}


__all__ = ["INPUTS", "OUTPUTS", "export_step_onnx", "export_step_pytorch"]
