from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import torch

from searchcore.data.dataset import load_image_dataset
from searchcore.data.loader import normalize
from searchcore.events import Emitter, ListSink, read_events
from searchcore.spaces import create_space
from searchcore.training.final import FinalConfig, _load_data, train_final
from searchcore.training.io import resolve_architecture
from searchcore.training.loop import FinalLoop, LoopSettings
from searchcore.training.schedules import cosine_lr, cutout, scheduled_drop_path, set_drop_path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
NB201_ARCH = {"space": "nb201", "edges": ["nor_conv_3x3", "nor_conv_3x3", "skip_connect",
                                          "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"]}
TINY = {"image_size": 16, "channels": 4, "cells_per_stage": 1, "batch_size": 16}


# -- schedules ---------------------------------------------------------------------------------
def test_cosine_lr_goes_from_base_to_zero():
    assert cosine_lr(0.1, 0, 100) == pytest.approx(0.1)
    assert cosine_lr(0.1, 50, 100) == pytest.approx(0.05)
    assert cosine_lr(0.1, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert cosine_lr(0.1, 7, None) == 0.1  # length unknown yet (time budget, first epoch)
    values = [cosine_lr(0.1, s, 20) for s in range(21)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


def test_scheduled_drop_path_is_a_linear_ramp():
    assert [scheduled_drop_path(0.3, e, 3) for e in range(4)] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert scheduled_drop_path(0.3, 9, 3) == pytest.approx(0.3)
    assert scheduled_drop_path(0.0, 2, 3) == 0.0


def test_set_drop_path_reaches_the_network_and_submodules_that_declare_it():
    inner = torch.nn.Linear(2, 2)
    inner.drop_path_prob = 0.0
    model = torch.nn.Sequential(inner, torch.nn.ReLU())
    set_drop_path(model, 0.25)
    assert model.drop_path_prob == 0.25 and inner.drop_path_prob == 0.25
    assert not hasattr(model[1], "drop_path_prob")


def test_cutout_zeroes_one_square_per_image():
    x = torch.ones(64, 3, 16, 16)
    out = cutout(x, 4, torch.Generator().manual_seed(0))
    assert torch.equal(x, torch.ones(64, 3, 16, 16))  # input untouched
    zeros = (out == 0).all(dim=1)  # (N, H, W): same hole in every channel
    assert torch.equal((out == 0).any(dim=1), zeros)
    areas = zeros.sum(dim=(1, 2))
    assert areas.max() == 16 and areas.min() >= 4  # a full 4x4 square, or clipped at a corner
    for img in zeros:  # the zeroed pixels form one axis-aligned rectangle
        rows, cols = img.any(1).nonzero().flatten(), img.any(0).nonzero().flatten()
        assert img.sum() == len(rows) * len(cols)
        assert rows.max() - rows.min() + 1 == len(rows) and cols.max() - cols.min() + 1 == len(cols)
    again = cutout(x, 4, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert cutout(x, 0) is x


# -- architecture files ------------------------------------------------------------------------
def test_resolve_architecture_accepts_result_json_and_bare_arch(tmp_path):
    bare = {k: v for k, v in NB201_ARCH.items() if k != "space"}
    result = {"space": "nb201", "best": {"architecture": bare, "reward": 91.0},
              "config": {"space_options": {"channels": 8}}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    arch, options = resolve_architecture(str(path))
    assert arch == NB201_ARCH and options == {"channels": 8}
    assert resolve_architecture(NB201_ARCH) == (NB201_ARCH, {})
    with pytest.raises(ValueError, match="space"):
        resolve_architecture({"edges": NB201_ARCH["edges"]})
    with pytest.raises(ValueError, match="best architecture"):
        resolve_architecture({"space": "nb201", "best": None})
    with pytest.raises(ValueError, match="no such file"):
        resolve_architecture(tmp_path / "missing.json")


def test_config_needs_a_budget_and_sane_values():
    with pytest.raises(ValueError, match="budget"):
        FinalConfig(arch=NB201_ARCH, data="x.zip")
    with pytest.raises(ValueError, match="drop_path"):
        FinalConfig(arch=NB201_ARCH, data="x.zip", epochs=1, drop_path=1.5)
    with pytest.raises(ValueError, match="unknown"):
        FinalConfig.from_dict({"arch": NB201_ARCH, "data": "x.zip", "epochs": 1, "bogus": 1})
    cfg = FinalConfig(arch=NB201_ARCH, data="x.zip", epochs=2)
    assert FinalConfig.from_dict(cfg.to_dict()) == cfg


# -- the loop really learns ----------------------------------------------------------------------
def _tiny_child_and_images(images: int, channels: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A small nb201 child and the first ``images`` normalised training images of the fixture."""
    torch.manual_seed(0)
    data = load_image_dataset(FIXTURE, image_size=16)
    x = normalize(data.train.images[:images], data.mean, data.std)
    space = create_space("nb201")
    model = space.build_child(space.arch_from_json(NB201_ARCH), data.task(), channels=channels,
                              cells_per_stage=1)
    return model, x, data.train.labels[:images]


def _plain_settings(epochs: int | None, deadline: float | None) -> LoopSettings:
    """No regularisation, so the loss shows the optimiser alone."""
    return LoopSettings(lr=0.05, epochs=epochs, deadline=deadline, drop_path=0.0, cutout=0, aux_weight=0.4,
                        label_smoothing=0.0, grad_clip=5.0, weight_decay=0.0, autocast=False)


def test_loss_decreases_when_overfitting_a_tiny_real_subset():
    model, x, y = _tiny_child_and_images(images=20, channels=8)
    settings = _plain_settings(epochs=40, deadline=None)
    sink = ListSink()
    loop = FinalLoop(model, [(x, y)], [(x, y)], 1, settings, Emitter(sink), lambda: False, torch.Generator())
    outcome = loop.run()
    losses = [row["loss"] for row in outcome.history]
    assert len(losses) == 40
    assert losses[-1] < 0.5 * losses[0]
    assert outcome.history[-1]["accuracy"] > 0.8
    assert outcome.history[-1]["lr"] < 0.01  # cosine reached the end


def test_time_budget_is_replanned_when_epochs_get_faster():
    """A first epoch slowed by load must not leave most of the budget unused (bench/cifar_subset)."""
    model, x, y = _tiny_child_and_images(images=8, channels=4)
    budget = 3.0
    settings = _plain_settings(epochs=None, deadline=time.monotonic() + budget)
    calls: list[int] = []

    def slow_first_epoch() -> bool:
        calls.append(1)
        if len(calls) <= 4:  # the 4 minibatches of epoch 1
            time.sleep(0.3)
        return False

    batches = [(x[i:i + 2], y[i:i + 2]) for i in range(0, 8, 2)]
    loop = FinalLoop(model, batches, batches[:1], 4, settings, Emitter(ListSink()), slow_first_epoch,
                     torch.Generator())
    started = time.monotonic()
    outcome = loop.run()
    used = time.monotonic() - started
    assert used > 0.75 * budget, (used, outcome.epochs_run)  # a one-shot plan stopped at about 1.3 s
    assert outcome.epochs_run > 5
    lrs = [row["lr"] for row in outcome.history]
    assert lrs == sorted(lrs, reverse=True), lrs  # re-planning never bumps the LR up
    assert lrs[-1] < 0.5 * lrs[0]


# -- train_final end to end --------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("final")
    sink = ListSink()
    config = FinalConfig(arch={"space": "nb201", "best": {"architecture": NB201_ARCH}}, data=str(FIXTURE),
                         epochs=2, cutout=4, **TINY)
    result = train_final(config, out, sink=sink, first_seq=41)
    return result, out, sink


def test_train_final_writes_every_file(trained):
    result, out, _ = trained
    for name in ("model.pt", "architecture.json", "preprocessing.json", "metrics.json", "train_config.json",
                 "events.jsonl", "test_samples.safetensors"):
        assert (out / name).is_file(), name
    assert json.loads((out / "architecture.json").read_text()) == NB201_ARCH
    prep = json.loads((out / "preprocessing.json").read_text())
    assert prep["image_size"] == 16 and prep["channels"] == 3 and prep["grayscale"] is False
    assert len(prep["mean"]) == len(prep["std"]) == 3 and all(0 < s < 1 for s in prep["std"])
    assert prep["class_names"] == sorted(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                          "horse", "ship", "truck"])
    state = torch.load(out / "model.pt", weights_only=True)
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    cfg = json.loads((out / "train_config.json").read_text())
    assert cfg["child_overrides"] == {"channels": 4, "cells_per_stage": 1, "drop_path": 0.1}
    assert result.status == "succeeded" and result.epochs_run == 2


def test_metrics_json_is_complete(trained):
    result, out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == result.metrics
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_accuracy"] == result.test_accuracy
    n = metrics["num_samples"]
    assert n == 10 and metrics["evaluated_on"] == "test"
    cm = metrics["confusion_matrix"]
    assert len(cm) == 10 and sum(map(sum, cm)) == n
    assert metrics["test_accuracy"] == pytest.approx(sum(cm[i][i] for i in range(10)) / n)
    assert set(metrics["per_class"]) == set(metrics["class_names"])
    assert sum(c["support"] for c in metrics["per_class"].values()) == n
    assert set(metrics["macro"]) == {"precision", "recall", "f1"}
    assert math.isfinite(metrics["test_loss"])
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]
    drop = [row["drop_path"] for row in metrics["history"]]
    assert drop == pytest.approx([0.0, 0.05])  # ScheduledDropPath: 0.1 * epoch / 2
    assert metrics["weights"] == "best_valid" and metrics["best_epoch"] in (1, 2)


def test_events_continue_the_sequence_and_reach_both_sinks(trained):
    result, out, sink = trained
    seqs = [e.seq for e in sink.events]
    assert seqs == list(range(42, 42 + len(seqs))) and result.last_seq == seqs[-1]
    assert [e.to_dict() for e in read_events(out / "events.jsonl")] == [e.to_dict() for e in sink.events]
    epochs = sink.of_type("final_epoch")
    assert [e.payload["epoch"] for e in epochs] == [1, 2]
    assert set(epochs[0].payload) == {"epoch", "epochs", "loss", "accuracy", "valid_accuracy", "lr"}
    assert epochs[0].payload["lr"] > epochs[1].payload["lr"]
    evaluation = sink.of_type("evaluation")
    assert len(evaluation) == 1 and sink.events[-1].type == "evaluation"
    assert evaluation[0].payload["metrics"]["test_accuracy"] == result.test_accuracy
    progress = sink.of_type("progress")
    assert progress and progress[-1].payload["fraction"] == 1.0


def test_best_weights_are_the_ones_saved(trained):
    _, out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    valid = [row["valid_accuracy"] for row in metrics["history"]]
    assert metrics["best_valid_accuracy"] == max(valid)
    assert valid[metrics["best_epoch"] - 1] == max(valid)


def test_cancel_stops_between_minibatches_without_a_model(tmp_path):
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    sink = ListSink()
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=5, **TINY)
    result = train_final(config, tmp_path, sink=sink, should_stop=should_stop)
    assert result.status == "cancelled" and result.test_accuracy is None
    assert len(calls) == 4  # polled once per minibatch, stopped at the 4th
    assert not (tmp_path / "model.pt").exists() and not sink.of_type("evaluation")
    assert sink.events[-1].payload["status"] == "cancelled"


def test_time_budget_plans_epochs_and_stops_in_time(tmp_path):
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), budget_seconds=3.0, **TINY)
    result = train_final(config, tmp_path)
    metrics = result.metrics
    assert result.status == "succeeded" and 1 <= result.epochs_run <= metrics["epochs_planned"]
    assert result.elapsed_seconds < 3.0 + 10.0  # the test pass and files after the deadline are quick
    lrs = [row["lr"] for row in metrics["history"]]
    assert lrs[0] == pytest.approx(0.05)  # first epoch at the base LR while the length is unknown
    if metrics["epochs_planned"] > 1 and len(lrs) > 1:  # then the cosine decays over the planned epochs
        assert lrs[-1] < lrs[0]


def test_aux_head_and_unknown_override(tmp_path):
    space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
    arch = space.arch_to_json(space.sample_random(torch.Generator().manual_seed(1)))
    config = FinalConfig(arch=arch, data=str(FIXTURE), epochs=1, aux_head=True,
                         space_options={"num_nodes": 2}, **TINY)
    result = train_final(config, tmp_path)
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert result.status == "succeeded" and any(k.startswith("aux") for k in state)
    with pytest.raises(ValueError, match="layers"):
        config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=1, layers=3, **TINY)
        train_final(config, tmp_path / "x")



def test_rerun_in_the_same_dir_does_not_duplicate_events(tmp_path):
    search_event = {"seq": 5, "type": "log", "time": 0.0, "payload": {"level": "info", "message": "search"}}
    (tmp_path / "events.jsonl").write_text(json.dumps(search_event) + "\n")
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=3, **TINY)
    for _ in range(2):  # e.g. a redelivered task: same directory, same first_seq
        polls = iter(range(3))
        result = train_final(config, tmp_path, first_seq=5, should_stop=lambda it=polls: next(it, 9) >= 2)
    seqs = [e.seq for e in read_events(tmp_path / "events.jsonl")]
    assert seqs == list(range(5, result.last_seq + 1))  # the search's event kept, the first attempt's dropped


def test_a_budget_spent_before_training_still_takes_one_step(tmp_path):
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), budget_seconds=0.001, **TINY)
    result = train_final(config, tmp_path)
    history = result.metrics["history"]
    assert result.status == "succeeded" and result.epochs_run == 1 and len(history) == 1
    assert (tmp_path / "model.pt").is_file()


def _zip_with_classes(src: Path, dst: Path, rename: dict[str, str], keep: int) -> Path:
    """A copy of the class-folder zip ``src`` with some classes renamed and ``keep`` images per class."""
    import zipfile

    seen: dict[str, int] = {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            cls, _, leaf = name.partition("/")
            if not leaf or seen.get(cls, 0) >= keep:
                continue
            seen[cls] = seen.get(cls, 0) + 1
            zout.writestr(f"{rename.get(cls, cls)}/{leaf}", zin.read(name))
    return dst


def test_test_data_is_the_whole_test_set_and_data_is_split_train_valid(tmp_path):
    test_zip = _zip_with_classes(FIXTURE, tmp_path / "test.zip", {}, keep=3)
    config = FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=1, test_data=str(test_zip), **TINY)
    result = train_final(config, tmp_path / "out")
    metrics = result.metrics
    assert metrics["evaluated_on"] == "test" and metrics["num_samples"] == 30  # 3 per class, all of them
    assert sum(c["support"] for c in metrics["per_class"].values()) == 30
    data = _load_data(config)  # 10 images per class in ``data``: 9 train + 1 valid, no test share
    assert (len(data.train.labels), len(data.valid.labels), len(data.test.labels)) == (90, 10, 30)
    assert json.loads((tmp_path / "out" / "train_config.json").read_text())["test_data"] == str(test_zip)
    bad = _zip_with_classes(FIXTURE, tmp_path / "bad.zip", {"cat": "kitten"}, keep=3)
    with pytest.raises(ValueError, match="classes"):
        train_final(FinalConfig(arch=NB201_ARCH, data=str(FIXTURE), epochs=1, test_data=str(bad), **TINY),
                    tmp_path / "bad")
