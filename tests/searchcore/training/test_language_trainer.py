"""Final training of a language model (``training.language``): perplexity, curve, files, recipe."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from searchcore.data import load_task_data
from searchcore.data.text import batchify
from searchcore.events import Emitter, ListSink
from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces.base import LANGUAGE
from searchcore.training import FinalConfig, train_final
from searchcore.training.final import for_kind
from searchcore.training.io import load_trained
from searchcore.training.language import EVAL_BATCH, recipe
from searchcore.training.language_loop import LanguageLoop
from searchcore.training.lm import CPU_THREADS, cpu_threads, stream_metrics, windows
from searchcore.training.loop import LoopOutcome, LoopSettings
from searchcore.training.trainers import trainer_for, trainer_kinds

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"
OPTIONS = {"num_nodes": 4, "hidden_size": 16}


def arch_json(seed: int = 0) -> dict:
    space = create_space("enas-rnn", **OPTIONS)
    return space.arch_to_json(space.sample_random(torch.Generator().manual_seed(seed)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "final"
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=3, batch_size=4, space_options=OPTIONS)
    sink = ListSink()
    return train_final(config, out, sink=sink), out, sink


def test_the_language_kind_has_a_trainer():
    assert LANGUAGE in trainer_kinds() and trainer_for(LANGUAGE).kind == LANGUAGE


def test_final_training_reports_test_perplexity_and_the_curve(trained):
    result, out, sink = trained
    assert result.status == "succeeded" and result.epochs_run == 3
    metrics = json.loads((out / "metrics.json").read_text())
    vocab = len(load_task_data(LANGUAGE, CORPUS).vocab)
    assert metrics["evaluated_on"] == "test" and metrics["vocab_size"] == vocab
    # trained a little: better than guessing uniformly over the vocabulary, and finite
    assert math.isfinite(metrics["test_perplexity"]) and 1.0 < metrics["test_perplexity"] < vocab
    assert metrics["test_loss"] == pytest.approx(math.log(metrics["test_perplexity"]), rel=1e-3)
    curve = metrics["history"]
    assert [row["epoch"] for row in curve] == [1, 2, 3]
    assert all(row["valid_perplexity"] > 1.0 and row["perplexity"] > 1.0 for row in curve)
    best = min(curve, key=lambda row: row["valid_perplexity"])
    assert metrics["best_epoch"] == best["epoch"]
    model, _, _ = load_trained(out)  # the kept weights are the best epoch's
    data = load_task_data(LANGUAGE, CORPUS)
    valid = stream_metrics(model.run_state, windows(_columns(data.valid), 35))
    assert valid["perplexity"] == pytest.approx(best["valid_perplexity"], rel=1e-4)
    assert metrics["recipe"] == {"optimizer": "sgd", "momentum": 0.0, "lr": 20.0, "grad_clip": 0.25,
                                 "weight_decay": 1.2e-6, "bptt": 35}
    assert [e.type for e in sink.events].count("final_epoch") == 3


def test_the_folder_holds_the_vocabulary_and_rebuilds_the_model(trained):
    _, out, _ = trained
    prep = json.loads((out / "preprocessing.json").read_text())
    data = load_task_data(LANGUAGE, CORPUS)
    assert prep["vocab"] == data.vocab and prep["eos"] == "<eos>" and prep["unk"] == "<unk>"
    assert prep["task"] == {"kind": LANGUAGE, "vocab_size": len(data.vocab), "seq_len": 35}
    model, _, _ = load_trained(out)
    test = stream_metrics(model.run_state, windows(_columns(data.test), 35))
    metrics = json.loads((out / "metrics.json").read_text())
    assert test["perplexity"] == pytest.approx(metrics["test_perplexity"], rel=1e-4)


def _columns(ids: torch.Tensor) -> torch.Tensor:
    return batchify(ids, EVAL_BATCH)


def test_the_language_defaults_are_its_own_and_a_given_value_is_used_as_given():
    base = for_kind(FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1), LANGUAGE)
    assert recipe(base) == {"optimizer": "sgd", "momentum": 0.0, "lr": 20.0, "grad_clip": 0.25,
                            "weight_decay": 1.2e-6, "bptt": 35}
    # 0.05 and 5.0 were the image defaults that used to be swapped silently for 20 / 0.25
    own = for_kind(FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, lr=0.05, grad_clip=5.0,
                               bptt=12), LANGUAGE)
    assert (recipe(own)["lr"], recipe(own)["grad_clip"], recipe(own)["bptt"]) == (0.05, 5.0, 12)


@pytest.mark.parametrize("knob", [{"cutout": 8}, {"aux_head": True}, {"drop_path": 0.3}, {"channels": 16}])
def test_an_image_knob_is_refused_for_a_language_model(tmp_path, knob):
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, **knob)
    with pytest.raises(ValueError, match=f"{next(iter(knob))}: not a setting of a language model"):
        train_final(config, tmp_path / "final")


def test_a_language_knob_is_refused_for_an_image_model():
    with pytest.raises(ValueError, match="bptt: not a setting of an image model"):
        for_kind(FinalConfig(arch={}, data="", epochs=1, bptt=20), "image")
    assert for_kind(FinalConfig(arch={}, data="", epochs=1), "image").lr == 0.05  # image defaults kept


def test_bptt_hidden_size_and_dropouts_reach_the_final_child(tmp_path):
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, batch_size=4, space_options=OPTIONS,
                         bptt=7, hidden_size=24, dropout_output=0.1)
    train_final(config, tmp_path / "final")
    prep = json.loads((tmp_path / "final" / "preprocessing.json").read_text())
    cfg = json.loads((tmp_path / "final" / "train_config.json").read_text())
    assert prep["task"]["seq_len"] == 7
    assert cfg["child_overrides"] == {"hidden_size": 24, "dropout_output": 0.1}
    model, _, _ = load_trained(tmp_path / "final")
    assert model.size == 24 and model.dropouts.output == 0.1


def test_a_separate_test_set_is_refused_for_text(tmp_path):
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, test_data=str(CORPUS))
    with pytest.raises(ValueError, match="own test split"):
        train_final(config, tmp_path / "final")


def test_the_kept_weights_are_those_of_the_lowest_validation_perplexity():
    space = create_space("enas-rnn", **OPTIONS)
    arch = space.arch_from_json(arch_json())
    model = space.build_child(arch, TaskSpec.language(10, 4))
    settings = LoopSettings(lr=1.0, epochs=3, deadline=None, drop_path=0.0, cutout=0, aux_weight=0.0,
                            label_smoothing=0.0, grad_clip=0.25, weight_decay=0.0, autocast=False)
    loop = LanguageLoop(model, [], [], settings, Emitter(ListSink()), lambda: False, torch.Generator())
    out = LoopOutcome(status="succeeded", epochs_run=0, epochs_planned=3)
    # accuracy rises every epoch but perplexity is best at epoch 2
    for epoch, (acc, ppl) in enumerate([(0.1, 50.0), (0.2, 40.0), (0.3, 45.0)]):
        loop.valid_perplexity = ppl
        loop._record(out, epoch, 3.0, 0.1, acc, 1.0)
    assert (out.best_epoch, out.best_valid_accuracy, loop.best_perplexity) == (2, 0.2, 40.0)
    assert out.history[-1]["valid_perplexity"] == 45.0


def test_each_epoch_validates_on_the_first_valid_tokens_only(monkeypatch):
    import searchcore.training.language as language

    data = load_task_data(LANGUAGE, CORPUS, seq_len=2)  # 16 validation rows at 10 columns: 8 windows
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, batch_size=4)
    space = create_space("enas-rnn", **OPTIONS)
    model = space.build_child(space.arch_from_json(arch_json()), data.task())
    settings = LoopSettings(lr=1.0, epochs=1, deadline=None, drop_path=0.1, cutout=0, aux_weight=0.0,
                            label_smoothing=0.0, grad_clip=5.0, weight_decay=3e-4, autocast=False)

    def loop():
        return language.LanguageTrainer().make_loop(model, config, data, torch.device("cpu"),
                                                    torch.Generator(), settings, Emitter(ListSink()),
                                                    lambda: False)

    assert len(loop().valid) == 8
    monkeypatch.setattr(language, "VALID_TOKENS", 60)  # 60 // (10 columns * 2 steps) = 3 windows
    capped = loop()
    assert len(capped.valid) == 3 and capped.valid[0][0].shape == (2, 10)
    assert (capped.s.lr, capped.s.grad_clip, capped.s.drop_path) == (1.0, 5.0, 0.0)  # as given; no drop path


def test_language_work_on_a_cpu_runs_single_threaded_and_restores_the_setting():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with cpu_threads(torch.device("cpu")):
            assert torch.get_num_threads() == CPU_THREADS == 1
        assert torch.get_num_threads() == 2
        with cpu_threads(torch.device("meta")):  # not a CPU: left alone
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_final_hidden_size_with_init_supernet_is_refused_with_the_reason(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"")  # refused before the checkpoint is read
    config = FinalConfig(arch=arch_json(), data=str(CORPUS), epochs=1, space_options=OPTIONS, hidden_size=24,
                         init="supernet", supernet=str(tmp_path))
    with pytest.raises(ValueError, match="keeps the search's network size; leave hidden_size"):
        train_final(config, tmp_path / "final")
