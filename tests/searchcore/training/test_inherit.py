"""Final training from the supernet's weights (issue 7, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.search.loop import run_search
from searchcore.search.store import load_checkpoint
from searchcore.spaces import create_space
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.inherit import DEFAULT_INIT, resolved_init, supernet_space_options

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"


@pytest.fixture(scope="module")
def search_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search")
    config = SearchConfig(space="enas-micro", data=str(TINY), evaluator="shared", controller="reinforce",
                          space_options={"channels": 4, "cells_per_stage": 1, "num_nodes": 2},
                          max_epochs=1, image_size=16, batch_size=16, controller_steps_per_epoch=2,
                          derive_samples=1, device="cpu")
    assert run_search(config, out).status == "succeeded"
    return out


def _final(search_dir: Path, **kw) -> FinalConfig:
    result = json.loads((search_dir / "result.json").read_text())
    return FinalConfig(arch=result, data=str(TINY), epochs=1, image_size=16, device="cpu",
                       supernet=str(search_dir), **kw)


def test_auto_is_the_measured_default_when_there_is_a_supernet_and_scratch_otherwise(
        search_dir: Path, tmp_path: Path) -> None:
    assert resolved_init("auto", str(search_dir)) == DEFAULT_INIT  # the measured default (BENCHMARKS.md)
    assert resolved_init("auto", str(tmp_path)) == "scratch" and resolved_init("auto", None) == "scratch"
    assert resolved_init("scratch", str(search_dir)) == "scratch"
    with pytest.raises(ValueError, match="needs the search folder"):
        resolved_init("supernet", str(tmp_path))
    with pytest.raises(ValueError, match="init must be one of"):
        FinalConfig(arch={}, data="x", epochs=1, init="warm")


def test_the_child_starts_with_the_supernets_weights_of_its_architecture(
        search_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchcore.training import child as child_module

    seen = {}
    real = child_module.load_supernet_weights

    def keep(model, *args, **kwargs):
        real(model, *args, **kwargs)
        seen["initial"] = {k: v.clone() for k, v in model.state_dict().items()}

    monkeypatch.setattr(child_module, "load_supernet_weights", keep)
    result = train_final(_final(search_dir, init="supernet", drop_path=0.0), tmp_path / "ft")
    assert result.status == "succeeded"
    saved = json.loads((tmp_path / "ft" / "train_config.json").read_text())
    assert saved["init"] == "supernet" and saved["child_overrides"]["channels"] == 4

    # the child's first weights (before any training step) are those of its architecture in the
    # supernet: every tensor the child shares by name and shape with the checkpoint's supernet
    net = load_checkpoint(search_dir / "checkpoint.pt")["evaluator"]["net"]
    initial = seen["initial"]
    shared = [k for k in initial if k in net and initial[k].shape == net[k].shape]
    assert "stem.0.weight" in shared and any(".nodes." in k for k in shared)
    for name in shared:
        assert torch.equal(initial[name], net[name]), name
    scratch = real_scratch_weights(search_dir)
    assert not torch.equal(scratch["stem.0.weight"], net["stem.0.weight"])


def real_scratch_weights(search_dir: Path) -> dict[str, torch.Tensor]:
    """The first weights of a child built without the supernet (same size, same seed)."""
    result = json.loads((search_dir / "result.json").read_text())
    options = supernet_space_options(search_dir, result["config"]["space_options"])
    space = create_space("enas-micro", **options)
    arch = space.arch_from_json({k: v for k, v in result["best"]["architecture"].items() if k != "space"})
    from searchcore.spaces import TaskSpec

    torch.manual_seed(0)
    return space.build_child(arch, TaskSpec.image(3, 16, 10)).state_dict()


def test_a_fine_tuned_child_keeps_the_supernets_size(search_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keeps the search's network size; leave channels empty"):
        train_final(_final(search_dir, init="supernet", channels=8), tmp_path / "x")
    scratch = train_final(_final(search_dir, init="scratch", channels=8), tmp_path / "s")
    saved = json.loads((tmp_path / "s" / "train_config.json").read_text())
    assert scratch.status == "succeeded" and saved["init"] == "scratch"
    assert saved["child_overrides"]["channels"] == 8
