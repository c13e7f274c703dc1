"""The language model's package: one recurrence step as ``model.onnx`` and a text ``predict.py``.

Why one step and not the unrolled sequence: see ``export.onnx_step``. The vocabulary (id order),
``<eos>``/``<unk>`` and the tokeniser travel in ``preprocessing.json`` (copied from training);
``predict.py`` (``template/predict_language.py``) needs only numpy and onnxruntime. The exports are
checked on the window of real test tokens final training kept (``test_samples.safetensors``).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from searchcore.export.kinds import register_exporter
from searchcore.export.onnx_step import export_step_onnx, export_step_pytorch
from searchcore.spaces._lm_net import OneStep
from searchcore.spaces.base import LANGUAGE
from searchcore.training.io import SAMPLES_FILE

TEMPLATE = Path(__file__).resolve().parent / "template" / "predict_language.py"
RUNTIME_PACKAGES = ("numpy", "onnxruntime")


@register_exporter(LANGUAGE)
class LanguageExporter:
    kind = LANGUAGE

    def samples(self, train_dir: Path, prep: dict[str, Any]) -> torch.Tensor:
        path = train_dir / SAMPLES_FILE
        if not path.is_file():
            raise ValueError(f"{train_dir} has no {SAMPLES_FILE}: the export cannot be checked on real text")
        tokens = load_file(str(path)).get("tokens")
        if tokens is None or tokens.dim() != 2 or tokens.numel() == 0:
            raise ValueError(f"{path} holds no (seq_len, batch) token window")
        return tokens.long()

    def export_models(self, model: nn.Module, samples: torch.Tensor, stage: Path) -> dict[str, Any]:
        """``model.onnx`` and ``model.pt2`` of one step (``package._write_models`` adds the weights)."""
        if not callable(getattr(model, "run_state", None)):
            raise ValueError(f"{type(model).__name__} is not a recurrent language model (no run_state)")
        step = OneStep(model).eval()
        info = export_step_onnx(step, samples, stage / "model.onnx")
        info.update(export_step_pytorch(step, samples, stage))
        return info

    def files(self, prep: dict[str, Any]) -> dict[str, bytes]:
        return {"predict.py": TEMPLATE.read_bytes()}

    def requirements(self) -> str:
        return "".join(f"{name}=={metadata.version(name)}\n" for name in RUNTIME_PACKAGES)

    def readme(self, arch: dict[str, Any], prep: dict[str, Any], metrics: dict[str, Any],
               cfg: dict[str, Any], info: dict[str, Any]) -> str:
        ppl = metrics.get("test_perplexity")
        recipe = metrics.get("recipe") or {}
        count = len(arch.get("nodes", []))
        nodes = ", ".join(f"{n['act']}({n['combine']})" if "combine" in n  # nas-rl-rnn's tree nodes
                          else n["act"] if "prev" not in n else f"{n['act']}<-{n['prev']}"
                          for n in arch.get("nodes", []))
        cell = (f"a searched recurrent cell ({count} nodes: {nodes})" if count
                else f"a fixed {arch['space']} network (no search)")
        return "\n".join([
            f"# {arch['space']} language model",
            "",
            f"A word-level language model with {cell}; {info.get('num_parameters', 0):,} parameters, "
            f"vocabulary of {len(prep['vocab']):,} words.",
            "",
            f"Test perplexity **{ppl:.2f}** on the corpus's test split (never used in training); next-word "
            f"accuracy {100 * float(metrics.get('test_accuracy') or 0.0):.2f}%. Trained from scratch for "
            f"{metrics.get('epochs_run', 0)} epoch(s) on {metrics.get('device', 'cpu')}: SGD, learning rate "
            f"{recipe.get('lr')} (cosine to 0), gradient clip {recipe.get('grad_clip')}, batch size "
            f"{cfg.get('batch_size')}, truncated BPTT of {prep['task']['seq_len']} tokens; the package holds "
            f"the weights of epoch {metrics.get('best_epoch')}, the best validation perplexity. "
            "`metrics.json` has the per-epoch curve (`history`).",
            "",
            "## Run it",
            "",
            "    python -m venv venv && venv/bin/pip install -r requirements.txt",
            "    venv/bin/python predict.py \"the game was\"            # the 5 most likely next words",
            "    venv/bin/python predict.py --top 10 --json \"some words\"",
            "",
            "Words are split on whitespace; a word outside the vocabulary becomes `<unk>` (when the "
            "vocabulary has it). The text is read after an `<eos>`, as a new line of the corpus.",
            "",
            "## Files",
            "",
            f"- `model.onnx` (opset {info['onnx_opset']}): **one step** of the recurrence, inputs "
            "`tokens` (1, batch) int64 and `hidden` (batch, "
            f"{info['hidden_size']}) float32, outputs `logits` (batch, vocabulary) and `hidden_out`. "
            "`predict.py` feeds the words one at a time from a zero state. One step rather than the "
            "unrolled sequence because the exporters trace the loop over time at a fixed length; a "
            "step runs any sentence length. Checked against PyTorch step by step on "
            f"{info['verified_on_tokens']} real test tokens: max |logit difference| "
            f"{info['onnx_max_abs_diff']:.1e}.",
            f"- `{info['pytorch_file']}`: the same step as a PyTorch program ({info['pytorch_form']}).",
            "- `weights.safetensors`: the `state_dict`; `architecture.json`, `preprocessing.json` (the "
            "vocabulary in id order, `<eos>`, `<unk>`), `metrics.json`, `export.json`, `MANIFEST.sha256`.",
            "",
        ])
