"""The nas-rl-cnn space (Zoph & Le 2017): its decisions, wiring, padding, width, drop path, drawing,
JSON checks, compatibility, and a child really trained and exported."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore.compat import combination_errors, compatibility_table
from searchcore.evaluators import evaluator_class, list_evaluators
from searchcore.export.package import export_package
from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces._nas_rl_net import concat_padded
from searchcore.training.final import FinalConfig, train_final

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
TASK = TaskSpec(3, 16, 10)


def layer(h: int = 3, w: int = 3, filters: int = 24, stride: int = 1, inputs: tuple[int, ...] = ()) -> dict:
    return {"height": h, "width": w, "filters": filters, "stride": stride, "inputs": list(inputs)}


def arch(*layers: dict[str, Any], **options: Any) -> tuple[Any, Any]:
    space = create_space("nas-rl-cnn", num_layers=max(len(layers), 2), **options)
    return space, space.arch_from_json({"space": "nas-rl-cnn", "layers": list(layers)})


def test_decisions_follow_the_papers_order_per_layer() -> None:
    fixed = create_space("nas-rl-cnn", num_layers=3)
    keys = [d.key.split("/", 1)[1] for d in fixed.decisions()]
    assert keys == ["layer0/height", "layer0/width", "layer0/filters",
                    "layer1/inputs", "layer1/height", "layer1/width", "layer1/filters",
                    "layer2/inputs", "layer2/height", "layer2/width", "layer2/filters"]
    skips = [d for d in fixed.decisions() if d.kind == "skip"]
    assert [d.choices for d in skips] == [("layer0",), ("layer0", "layer1")]
    assert fixed.size() == 64**3 * 2**3  # 4 x 4 x 4 per layer, one flag per earlier layer
    searched = create_space("nas-rl-cnn", num_layers=3, stride="searched")
    assert [d.key for d in searched.decisions()][:4] == [
        "layers/layer0/height", "layers/layer0/width", "layers/layer0/stride", "layers/layer0/filters"]
    assert searched.size() == 3**3 * fixed.size()
    heights, widths = (d.choices for d in fixed.decisions()[:2])
    assert heights != widths  # one policy head per kind of prediction, though both offer 1, 3, 5, 7
    assert create_space("nas-rl-cnn").size() == 64**6 * 2**15  # the paper's choices at 6 layers


def test_only_the_chosen_values_are_decided() -> None:
    space = create_space("nas-rl-cnn", num_layers=2, filter_heights=["3"], filter_widths=["1", "5"],
                         filter_counts=["8", "16"])
    a = space.from_decisions([0, 1, 1, (1,), 0, 0, 0])
    assert space.arch_to_json(a)["layers"] == [layer(3, 5, 16), layer(3, 1, 8, inputs=(1,))]
    with pytest.raises(ValueError, match="stride"):
        space.to_decisions(space.arch_from_json({"space": "nas-rl-cnn", "layers": [
            layer(3, 1, 8, stride=2), layer(3, 1, 8, inputs=(1,))]}))
    with pytest.raises(ValueError, match="filters 24"):
        space.to_decisions(space.arch_from_json({"space": "nas-rl-cnn", "layers": [
            layer(3, 1, 24), layer(3, 1, 8, inputs=(1,))]}))


def test_inputs_concatenate_in_depth_and_unread_layers_feed_the_classifier() -> None:
    # layer 1 reads nothing (the image); layer 2 reads 0 and 1; layer 3 reads 0: unread are 2 and 3
    space, a = arch(layer(filters=24), layer(1, 1, 36, inputs=(0,)), layer(5, 3, 48, inputs=(1, 1)),
                    layer(7, 7, 64, inputs=(1, 0, 0)))
    child = space.build_child(a, TASK)
    convs = [m.conv for m in child.layers]
    assert [c.in_channels for c in convs] == [3, 3, 24 + 36, 24]
    assert [c.out_channels for c in convs] == [24, 36, 48, 64]
    assert [c.kernel_size for c in convs] == [(3, 3), (1, 1), (5, 3), (7, 7)]
    assert child.linear.in_features == 48 + 64
    assert child(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def test_smaller_inputs_are_zero_padded_to_the_largest() -> None:
    big, small = torch.ones(1, 2, 5, 5), torch.full((1, 1, 2, 3), 7.0)
    out = concat_padded([big, small], 0.0, training=False)
    assert out.shape == (1, 3, 5, 5) and torch.equal(out[:, :2], big)
    assert torch.equal(out[0, 2, 1:3, 1:4], small[0, 0]) and out[0, 2].sum() == 7.0 * 6  # centred, zeros
    space, a = arch(layer(stride=2), layer(inputs=(0,)), layer(3, 3, 36, inputs=(1, 1)),
                    layer(inputs=(1, 0, 1)))
    space_2, b = arch(layer(stride=1), layer(stride=3, inputs=(1,)), layer(inputs=(1, 1)))
    for s, x in ((space, torch.randn(2, 3, 13, 13)), (space_2, torch.randn(2, 3, 16, 16))):
        assert s.build_child(a if s is space else b, TASK)(x).shape == (2, 10)


def test_channels_scale_every_layer_from_the_papers_base_of_24() -> None:
    space, a = arch(layer(filters=24), layer(filters=36, inputs=(1,)), layer(filters=64, inputs=(1, 1)))
    widths = [m.conv.out_channels for m in space.build_child(a, TASK, channels=12).layers]
    assert widths == [12, 18, 32]
    narrow = create_space("nas-rl-cnn", num_layers=3, channels=48)
    assert [m.conv.out_channels for m in narrow.build_child(a, TASK).layers] == [48, 72, 128]
    assert [m.conv.out_channels for m in narrow.build_child(a, TASK, channels=24).layers] == [24, 36, 64]
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="channels"):
            space.build_child(a, TASK, channels=bad)
    with pytest.raises(TypeError):
        space.build_child(a, TASK, cells_per_stage=2)


def test_drop_path_drops_whole_inputs_of_a_concatenation_only_in_training() -> None:
    torch.manual_seed(0)
    chain_space, chain = arch(layer(filters=8), layer(filters=8, inputs=(1,)))
    fan_space, fan = arch(layer(filters=8), layer(filters=8, inputs=(0,)), layer(filters=8, inputs=(1, 1)))
    x = torch.randn(8, 3, 16, 16)
    for space, a, dropped in ((chain_space, chain, False), (fan_space, fan, True)):
        child = space.build_child(a, TASK, drop_path=0.5).train()
        with torch.no_grad():
            out = child(x)
            child.drop_path_prob = 0.0
            plain = child(x)
        assert torch.equal(out, plain) != dropped  # a layer of one input has no path to drop
        child.eval()
        child.drop_path_prob = 0.5
        with torch.no_grad():
            assert torch.equal(child(x), child(x))
    with pytest.raises(ValueError, match="drop_path"):
        chain_space.build_child(chain, TASK, drop_path=1.0)


def test_the_drawing_shows_every_connection() -> None:
    space, a = arch(layer(), layer(1, 3, 36, stride=2, inputs=(0,)), layer(inputs=(1, 1)),
                    layer(inputs=(1, 0, 0)))
    (cell,) = space.graph(a)["cells"]
    labels = {n["id"]: n["label"] for n in cell["nodes"]}
    assert labels["layer1"] == "1: conv 1x3, 36, stride 2" and labels["input"] == "image"
    edges = {(e["source"], e["target"]): e["label"] for e in cell["edges"]}
    assert edges == {("input", "layer0"): "", ("input", "layer1"): "image", ("layer0", "layer2"): "skip",
                     ("layer1", "layer2"): "", ("layer0", "layer3"): "skip",
                     ("layer2", "output"): "concat", ("layer3", "output"): "concat"}


@pytest.mark.parametrize("bad", [
    {"layers": []},
    {"layers": [layer(h=2)]},
    {"layers": [layer(filters=25)]},
    {"layers": [layer(stride=4)]},
    {"layers": [layer(h=True)]},
    {"layers": [layer(), layer()]},  # layer 1 needs one flag
    {"layers": [layer(), layer(inputs=(2,))]},
    {"layers": [{**layer(), "op": "conv3"}]},
    {"layers": [layer()], "extra": 1},
], ids=["empty", "even-height", "filters", "stride", "bool", "flags", "flag-value", "field", "top-field"])
def test_bad_architectures_say_what_is_wrong(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        create_space("nas-rl-cnn").arch_from_json({"space": "nas-rl-cnn", **bad})


def test_no_supernet_and_a_clear_word_from_every_evaluator_that_refuses_it() -> None:
    with pytest.raises(NotImplementedError, match="from scratch"):
        create_space("nas-rl-cnn").build_supernet(TASK)
    row = compatibility_table()["nas-rl-cnn"]
    for evaluator in list_evaluators():
        errors = combination_errors("nas-rl-cnn", evaluator)
        assert (evaluator in row["evaluators"]) == (not errors)
        if evaluator_class(evaluator).needs_supernet:
            assert "no shared-weight supernet" in errors["evaluator"][0]


def test_a_child_trains_from_scratch_with_drop_path_and_exports(tmp_path: Path) -> None:
    space = create_space("nas-rl-cnn", num_layers=3, stride="searched")
    a = space.arch_to_json(space.sample_random(torch.Generator().manual_seed(3)))
    config = FinalConfig(arch=a, data=str(FIXTURE), epochs=1, image_size=16, batch_size=16, channels=4,
                         drop_path=0.3, space_options={"num_layers": 3, "stride": "searched"})
    result = train_final(config, tmp_path / "train")
    assert result.status == "succeeded"
    saved = json.loads((tmp_path / "train" / "train_config.json").read_text())
    assert saved["child_overrides"] == {"channels": 4, "drop_path": 0.3}
    package = export_package(tmp_path / "train", tmp_path / "out")
    with zipfile.ZipFile(package) as zf:
        assert json.loads(zf.read("export.json"))["onnx_max_abs_diff"] <= 1e-4
        assert json.loads(zf.read("architecture.json")) == a


def test_a_child_with_padded_inputs_exports_to_onnx_with_any_batch(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from searchcore.export.onnx import export_onnx

    space, a = arch(layer(), layer(3, 5, 36, stride=2, inputs=(1,)), layer(1, 3, stride=3, inputs=(1, 1)),
                    layer(inputs=(1, 1, 1)), stride="searched", channels=6)
    child = space.build_child(a, TASK).eval()
    info = export_onnx(child, torch.randn(3, 3, 16, 16), tmp_path / "model.onnx")
    assert info["onnx_exporter"] == "dynamo" and info["onnx_max_abs_diff"] <= 1e-4
