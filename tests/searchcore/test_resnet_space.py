"""The ``resnet20`` space: the CIFAR ResNet-20 as one fixed architecture, trained, never searched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import bench._timing
import bench.cifar_subset
import bench.speed
from searchcore.compat import combination_errors, run_errors, trains_only
from searchcore.spaces import TaskSpec, create_space, list_spaces
from searchcore.spaces.resnet import ResNet20
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.fixed import fixed_architecture, whole_budget_config
from searchcore.training.io import load_trained
from searchcore.validation import validate_search

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


def _child(task: TaskSpec, **options: int) -> nn.Module:
    space = create_space("resnet20", **options)
    return space.build_child(space.from_decisions([]), task)


def test_the_default_network_is_he_et_al_resnet20() -> None:
    model = _child(TaskSpec(3, 32, 10))
    convs3 = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs3) + len(linears) == 20  # 19 conv layers and the classifier
    assert [c.out_channels for c in convs3][::6] == [16, 16, 32, 64]
    assert sum(p.numel() for p in model.parameters()) == 272_474  # "0.27M" in the paper's table 6
    assert sum(p.numel() for p in _child(TaskSpec(3, 32, 10), blocks_per_stage=5).parameters()) == 466_906


def test_grayscale_odd_sides_and_classes_follow_the_task() -> None:
    model = _child(TaskSpec(1, 28, 7)).eval()
    assert model.stem[0].in_channels == 1
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 7)
    assert _child(TaskSpec(3, 9, 4))(torch.randn(2, 3, 9, 9)).shape == (2, 4)


def test_one_architecture_with_an_honest_drawing() -> None:
    space = create_space("resnet20", channels=8, blocks_per_stage=2)
    assert space.decisions() == [] and space.size() == 1 and not space.has_supernet
    arch = space.sample_random(torch.Generator().manual_seed(0))
    assert space.arch_to_json(arch) == {"space": "resnet20", "block": "basic"}
    assert space.degenerate_reasons(arch) == []
    (cell,) = space.graph(arch)["cells"]
    assert cell["name"] == "ResNet-14"
    assert [n["label"] for n in cell["nodes"]][1:5] == [
        "conv 3x3, 8", "2 x basic block, 8", "2 x basic block, 16, stride 2", "2 x basic block, 32, stride 2"]
    for bad in ({"space": "resnet20", "block": "bottleneck"},
                {"space": "resnet20", "block": "basic", "extra": 1}):
        with pytest.raises(ValueError):
            space.arch_from_json(bad)


def test_it_is_trained_not_searched() -> None:
    assert trains_only("resnet20")
    assert sorted(s for s in list_spaces() if trains_only(s)) == ["lstm", "resnet20"]  # the two baselines
    assert "no shared-weight supernet" in combination_errors("resnet20", "shared")["evaluator"][0]
    assert run_errors("resnet20", "shared", "reinforce", dataset_kind="image") == {}
    assert list(run_errors("resnet20", "shared", dataset_kind="language")) == ["dataset"]
    assert "reads none" in run_errors("resnet20", "benchmark")["evaluator"][0]
    assert run_errors("nb201", "shared") == combination_errors("nb201", "shared")


def test_a_stored_config_of_it_validates_and_takes_the_whole_budget() -> None:
    stored = {"space": "resnet20", "budget_seconds": 90, "final": {"budget_seconds": 60}}
    config, errors = validate_search(stored, dataset_kind="image")
    assert errors == {}
    run = whole_budget_config(config)
    assert run["final"]["budget_seconds"] == 150.0 and run["final"]["init"] == "scratch"
    assert run["final"]["channels"] == 16  # the planner may pick the batch, never a narrower network
    assert run["budget_seconds"] is None and config["budget_seconds"] == 90  # the stored one is unchanged
    _, errors = validate_search({"space": "resnet20", "max_archs": 2}, dataset_kind="image")
    assert "max_archs" in errors  # one architecture


def test_bench_times_the_same_network() -> None:
    assert bench.speed.ResNet20 is ResNet20 and bench.cifar_subset.ResNet20 is ResNet20
    assert not hasattr(bench._timing, "ResNet20")


def test_train_final_records_params_and_latency(tmp_path: Path) -> None:
    config = FinalConfig(arch=fixed_architecture("resnet20"), data=str(FIXTURE), epochs=1, device="cpu",
                         batch_size=16, image_size=16, space_options={"channels": 4, "blocks_per_stage": 1})
    result = train_final(config, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    model, _, _ = load_trained(tmp_path)
    assert metrics["params"] == sum(p.numel() for p in model.parameters()) == result.metrics["params"]
    assert 0.0 < metrics["latency_ms"] < 1000.0
    assert (metrics["latency_device"], metrics["latency_batch"]) == ("cpu", 1)
