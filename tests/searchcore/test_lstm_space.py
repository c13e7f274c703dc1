"""The ``lstm`` space: the language control, one fixed LSTM language model, trained, never searched."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from searchcore.compat import run_errors, trains_only
from searchcore.export.package import export_package
from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces.base import LANGUAGE
from searchcore.training import FinalConfig, train_final
from searchcore.training.fixed import fixed_architecture, whole_budget_config

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
NO_DROPOUT = {"dropout_words": 0.0, "dropout_embedding": 0.0, "dropout_hidden": 0.0, "dropout_output": 0.0}


def _model(task: TaskSpec, **options: object) -> nn.Module:
    space = create_space("lstm", **options)
    return space.build_child(space.from_decisions([]), task)


def test_one_architecture_with_enas_rnn_knobs_and_defaults() -> None:
    space = create_space("lstm")
    enas = create_space("enas-rnn")
    assert space.decisions() == [] and space.size() == 1 and not space.has_supernet
    assert space.task_kind == LANGUAGE and trains_only("lstm")
    for name in ("hidden_size", "tie_weights", "dropout_words", "dropout_embedding", "dropout_hidden",
                 "dropout_output"):
        assert getattr(space.options, name) == getattr(enas.options, name)
    assert space.arch_to_json(space.from_decisions([])) == {"space": "lstm", "cell": "lstm"}
    for bad in ({"space": "lstm", "cell": "gru"}, {"space": "lstm", "cell": "lstm", "extra": 1}):
        with pytest.raises(ValueError):
            space.arch_from_json(bad)
    with pytest.raises(ValueError, match="language"):
        space.build_child(space.from_decisions([]), TaskSpec(3, 16, 10))
    assert run_errors("lstm", "shared", dataset_kind="image")["dataset"]
    assert run_errors("lstm", "shared", dataset_kind="language") == {}


def test_parameters_tied_and_untied() -> None:
    vocab, h = 50, 8
    per_layer = 4 * h * h * 2 + 4 * h  # input and recurrent weights, one bias
    assert sum(p.numel() for p in _model(TaskSpec.language(vocab, 5), hidden_size=h).parameters()) == \
        vocab * h + per_layer + vocab
    untied = _model(TaskSpec.language(vocab, 5), hidden_size=h, num_layers=2, tie_weights=False)
    assert sum(p.numel() for p in untied.parameters()) == 2 * vocab * h + 2 * per_layer + vocab


def test_without_dropout_it_computes_torch_lstm_and_carries_its_state() -> None:
    """The step-by-step cell equals ``nn.LSTM`` with the same weights; the packed state continues a
    sequence exactly where one call over the whole sequence would be."""
    torch.manual_seed(0)
    model = _model(TaskSpec.language(30, 6), hidden_size=8, num_layers=2, **NO_DROPOUT).eval()
    reference = nn.LSTM(8, 8, num_layers=2)
    with torch.no_grad():
        for layer in range(2):
            getattr(reference, f"weight_ih_l{layer}").copy_(model.w_ih[layer].weight)
            getattr(reference, f"bias_ih_l{layer}").copy_(model.w_ih[layer].bias)
            getattr(reference, f"weight_hh_l{layer}").copy_(model.w_hh[layer].weight)
            getattr(reference, f"bias_hh_l{layer}").zero_()
    x = torch.randint(0, 30, (6, 3))
    logits, state = model.run_state(x)
    out, (h, c) = reference(model.encoder(x))
    torch.testing.assert_close(logits, model.decoder(out))
    packed = state.view(3, 2, 2, 8)
    torch.testing.assert_close(packed[:, :, 0].transpose(0, 1), h)
    torch.testing.assert_close(packed[:, :, 1].transpose(0, 1), c)
    first, mid = model.run_state(x[:4])
    second, end = model.run_state(x[4:], mid)
    torch.testing.assert_close(torch.cat([first, second]), logits)
    torch.testing.assert_close(end, state)


def test_a_run_trains_for_the_whole_budget_exports_and_predicts(tmp_path: Path) -> None:
    """As the product runs it: no search, final training from scratch with both budgets, by the
    language trainer; the package's one-step ONNX model and predict.py work on the LSTM's state."""
    config = whole_budget_config({"space": "lstm", "space_options": {"hidden_size": 16}, "budget_seconds": 60,
                                  "final": {"budget_seconds": 30}})
    assert config["final"]["budget_seconds"] == 90 and config["final"]["init"] == "scratch"
    arch = fixed_architecture("lstm", {"hidden_size": 16})
    result = train_final(FinalConfig(arch=arch, data=str(CORPUS), epochs=1, batch_size=4, init="scratch",
                                     space_options={"hidden_size": 16}), tmp_path / "train")
    metrics = result.metrics or {}
    assert result.status == "succeeded" and metrics["test_perplexity"] > 1.0
    assert metrics["recipe"]["lr"] == 20.0 and len(metrics["history"]) == 1
    zip_path = export_package(tmp_path / "train", tmp_path / "pkg.zip")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path / "pkg")
    exported = json.loads((tmp_path / "pkg" / "export.json").read_text())
    assert exported["hidden_size"] == 2 * 16  # the packed (h, c) state
    proc = subprocess.run([sys.executable, str(tmp_path / "pkg" / "predict.py"), "--top", "3", "the game"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("the game\t")
