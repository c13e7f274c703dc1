"""Transfer: a search's architecture trained on another dataset, at another size (training.transfer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch
from torch import nn

from searchcore.config import SearchConfig
from searchcore.search.loop import run_search
from searchcore.spaces import TaskSpec, create_space
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.io import load_trained, resolve_architecture
from searchcore.training.transfer import check_fits, size_problem, sizes_taken

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CIFAR, GRAY = FIXTURES / "cifar10_tiny_png.zip", FIXTURES / "gray28_png.zip"
SEARCHED = {"channels": 4, "cells_per_stage": 1, "num_nodes": 2}
MACRO = {"space": "enas-macro", "layers": [{"op": "conv3", "skips": []}, {"op": "max3", "skips": [1]},
                                          {"op": "sep5", "skips": [0, 1]}]}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished enas-micro search on the tiny CIFAR zip (RGB, 16 px, 10 classes): its folder."""
    root = tmp_path_factory.mktemp("transfer") / "search"
    torch.set_num_threads(1)
    config = SearchConfig(space="enas-micro", data=str(CIFAR), space_options=SEARCHED, max_epochs=1,
                          batch_size=16, controller_steps_per_epoch=2, derive_samples=2, device="cpu",
                          image_size=16)
    assert run_search(config, root).status == "succeeded"
    return root


def _result(searched: Path) -> dict[str, Any]:
    return json.loads((searched / "result.json").read_text())


def test_the_searched_cells_train_on_the_gray_dataset_wider_deeper_and_at_another_side(
        searched: Path, tmp_path: Path) -> None:
    result = _result(searched)
    config = FinalConfig(arch=result, data=str(GRAY), epochs=1, batch_size=8, device="cpu", seed=1,
                         channels=6, cells_per_stage=2, image_size=20, plan=False)
    final = train_final(config, tmp_path / "final")
    assert final.status == "succeeded" and final.test_accuracy is not None

    model, prep, cfg = load_trained(tmp_path / "final")
    assert prep["task"] == {"kind": "image", "in_channels": 1, "image_size": 20, "num_classes": 3}
    assert prep["class_names"] == ["bottom", "middle", "top"] and prep["grayscale"] is True
    assert cfg["child_overrides"]["channels"] == 6 and cfg["child_overrides"]["cells_per_stage"] == 2
    assert cfg["init"] == "scratch"
    arch, _ = resolve_architecture(result)
    assert json.loads((tmp_path / "final" / "architecture.json").read_text()) == arch  # the same cells
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 20, 20)).shape == (2, 3)
    searched_size = create_space("enas-micro", **SEARCHED).build_child(
        create_space("enas-micro", **SEARCHED).arch_from_json(arch), TaskSpec.image(3, 16, 10))
    assert _params(model) > _params(searched_size)  # wider and deeper than the search's own child
    stem = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert stem.in_channels == 1


def test_its_native_input_is_the_new_datasets_own(searched: Path, tmp_path: Path) -> None:
    final = train_final(FinalConfig(arch=_result(searched), data=str(GRAY), epochs=1, batch_size=8,
                                    device="cpu", plan=False), tmp_path / "final")
    prep = json.loads((Path(final.out_dir) / "preprocessing.json").read_text())
    assert (prep["image_size"], prep["channels"]) == (28, 1)


def test_the_searchs_supernet_cannot_start_a_transfer_to_other_classes(searched: Path,
                                                                       tmp_path: Path) -> None:
    config = FinalConfig(arch=_result(searched), data=str(GRAY), epochs=1, batch_size=8, device="cpu",
                         init="supernet", supernet=str(searched), plan=False)
    with pytest.raises(ValueError, match="data of another shape .*1 input channel.*3 classes.*scratch"):
        train_final(config, tmp_path / "final")


def test_a_size_the_space_cannot_set_is_a_clear_error_before_any_training(
        searched: Path, tmp_path: Path) -> None:
    config = FinalConfig(arch=_result(searched), data=str(GRAY), epochs=1, device="cpu", layers=3)
    with (mock.patch("searchcore.training.child._planned") as planned,
          pytest.raises(ValueError, match="unknown child override 'layers'")):
        train_final(config, tmp_path / "final")
    planned.assert_not_called()


@pytest.mark.parametrize(("arch", "taken"), [
    ({"space": "enas-micro", "normal": [[0, "sep3", 1, "max3"]] * 2, "reduce": [[0, "avg3", 0, "sep5"]] * 2},
     ("channels", "cells_per_stage")),
    (MACRO, ("channels", "layers")),
    ({"space": "nb201", "edges": ["nor_conv_3x3"] * 6}, ("channels", "cells_per_stage")),
    ({"space": "resnet20", "block": "basic"}, ("channels",)),
])
def test_sizes_taken_are_what_each_child_accepts(arch: dict[str, Any], taken: tuple[str, ...]) -> None:
    options = {"num_nodes": 2} if arch["space"] == "enas-micro" else {}
    assert sizes_taken(arch, options) == taken
    refused = next(n for n in ("channels", "cells_per_stage", "layers") if n not in taken)
    problem = size_problem(arch, options, {refused: 3, "channels": 8})
    assert problem is not None and refused.replace("_", " ") in problem and "it can set channels" in problem
    assert size_problem(arch, options, {"channels": 8, refused: None}) is None


def test_check_fits_names_the_task_kind_and_builds_large_children_without_memory() -> None:
    with pytest.raises(ValueError, match="for image data, not language data"):
        check_fits(MACRO, {}, TaskSpec.language(50, 8), {})
    check_fits(MACRO, {}, TaskSpec.image(1, 28, 3), {"channels": 1024, "layers": 99})  # meta: no storage
    with pytest.raises(ValueError, match="must be a multiple of the architecture's 3 layers"):
        check_fits(MACRO, {}, TaskSpec.image(1, 28, 3), {"layers": 100})


class _Space:
    """A space whose child (built by ``make``, on the device in effect) may not take the task's input."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def arch_from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def build_child(self, arch: Any, task: TaskSpec, **overrides: Any) -> nn.Module:
        return self.make()


class _NeedsValues(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float(x.sum().item())


def test_a_child_that_does_not_fit_the_input_is_a_value_error_in_words() -> None:
    def flat() -> nn.Module:  # built for 32 px colour only
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))

    with (mock.patch("searchcore.training.transfer.create_space", lambda name, **o: _Space(flat)),
          pytest.raises(ValueError, match=r"child at channels 8 does not fit 20×20 images with 1 channel")):
        check_fits(MACRO, {}, TaskSpec.image(1, 20, 3), {"channels": 8})
    with mock.patch("searchcore.training.transfer.create_space", lambda name, **o: _Space(_NeedsValues)):
        check_fits(MACRO, {}, TaskSpec.image(1, 20, 3), {})  # needs values: left to real training


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
