"""ENAS-specific behaviour of ``enas-micro`` and ``enas-macro`` (the generic contract is in test_spaces)."""

from __future__ import annotations

import pytest
import torch

from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces.enas_macro import MacroArch, MacroLayer
from searchcore.spaces.enas_micro import MicroArch, MicroNode

TASK = TaskSpec(3, 16, 10)


def micro(**options: object):
    return create_space("enas-micro", **{"channels": 4, "cells_per_stage": 1, "num_nodes": 2, **options})


def macro(**options: object):
    return create_space("enas-macro", **{"channels": 4, "num_layers": 3, **options})


# A 2-node micro architecture: node0 = sep3(c_{k-1}) + max3(c_{k-1}); node1 = identity(node0) + avg3(c_{k-1}).
# Loose ends: c_{k-2} (unused input, as ENAS concatenates it) and node1.
CELL = (MicroNode(1, "sep3", 1, "max3"), MicroNode(2, "identity", 1, "avg3"))
ARCH = MicroArch(CELL, CELL)


def test_micro_size_is_hand_computed() -> None:
    # node0: (2 inputs x 5 ops)^2, node1: (3 x 5)^2, per cell; two independent cells.
    assert micro().size() == (10**2 * 15**2) ** 2
    assert micro(ops=["sep3", "max3"]).size() == (4**2 * 6**2) ** 2


def test_micro_decisions_follow_the_enas_order() -> None:
    decisions = micro(num_nodes=3).decisions()
    assert len(decisions) == 2 * 3 * 4
    assert [d.key for d in decisions[:4]] == [
        "normal/node0/in0",
        "normal/node0/op0",
        "normal/node0/in1",
        "normal/node0/op1",
    ]
    assert decisions[12].key == "reduce/node0/in0"
    node2_input = decisions[8]
    assert (node2_input.kind, node2_input.group, node2_input.node) == ("input", "normal", 2)
    assert node2_input.choices == ("c_{k-2}", "c_{k-1}", "node0", "node1")
    assert decisions[1].choices == ("identity", "sep3", "sep5", "avg3", "max3")
    assert micro().initial_nodes == {"normal": 2, "reduce": 2}


def test_micro_graph_counts_and_loose_ends() -> None:
    normal, reduce = micro().graph(ARCH)["cells"]
    assert (normal["name"], reduce["name"]) == ("normal", "reduce")
    assert len(normal["nodes"]) == 2 + 2 + 1
    loose = [e["source"] for e in normal["edges"] if e["target"] == "c_{k}"]
    assert sorted(loose) == ["1", "c_{k-2}"]
    assert len(normal["edges"]) == 2 * 2 + 2
    assert {"source": "0", "target": "1", "label": "identity"} in normal["edges"]


def test_micro_network_layout_channels_and_resolutions() -> None:
    space = micro(channels=6, cells_per_stage=2)
    child = space.build_child(ARCH, TaskSpec(1, 9, 4))
    kinds = [c.kind for c in child.cells]
    assert kinds == ["normal", "normal", "reduce", "normal", "normal", "reduce", "normal", "normal"]
    shapes = []
    for cell in child.cells:
        cell.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
    assert child(torch.randn(2, 1, 9, 9)).shape == (2, 4)
    assert shapes == [(6, 9, 9)] * 2 + [(12, 5, 5)] * 3 + [(24, 3, 3)] * 3
    wider = space.build_child(ARCH, TaskSpec(1, 9, 4), channels=8, cells_per_stage=1)
    assert len(wider.cells) == 5 and wider.classifier.linear.in_features == 32


def test_micro_json_shape_and_validation() -> None:
    space = micro()
    data = space.arch_to_json(ARCH)
    assert data == {
        "space": "enas-micro",
        "normal": [[1, "sep3", 1, "max3"], [2, "identity", 1, "avg3"]],
        "reduce": [[1, "sep3", 1, "max3"], [2, "identity", 1, "avg3"]],
    }
    for bad, message in [
        ({**data, "normal": [[2, "sep3", 1, "max3"], *data["normal"][1:]]}, "input must be"),
        ({**data, "normal": [[1, "conv7", 1, "max3"], *data["normal"][1:]]}, "unknown operation"),
        ({**data, "normal": [[1, "sep3", 1]] + data["normal"][1:]}, "expected"),
        ({**data, "normal": [[True, "sep3", 1, "max3"], *data["normal"][1:]]}, "input must be"),
        ({**data, "reduce": data["reduce"][:1]}, "as many nodes"),
        ({"space": "enas-micro", "normal": data["normal"]}, "reduce"),
    ]:
        with pytest.raises(ValueError, match=message):
            space.arch_from_json(bad)


def test_micro_arch_of_other_size_builds_a_child_but_not_decisions() -> None:
    space = micro()  # 2 nodes; a 3-node architecture from another search still trains
    three = MicroArch(CELL + (MicroNode(3, "sep5", 0, "max3"),), CELL + (MicroNode(0, "sep5", 3, "max3"),))
    assert space.arch_from_json(space.arch_to_json(three)) == three
    assert space.build_child(three, TASK)(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="nodes"):
        space.to_decisions(three)
    with pytest.raises(ValueError, match="nodes"):
        space.build_supernet(TASK)(torch.randn(2, 3, 16, 16), three)
    with pytest.raises(ValueError, match="not among"):
        micro(ops=["sep3", "max3"]).to_decisions(ARCH)


@pytest.mark.parametrize("name", ["enas-micro", "enas-macro"])
def test_drop_path_only_in_training_and_read_each_forward(name: str) -> None:
    space = micro() if name == "enas-micro" else macro()
    arch = space.sample_random(torch.Generator().manual_seed(0))
    child = space.build_child(arch, TASK, drop_path=0.5)
    assert child.drop_path_prob == 0.5
    x = torch.randn(8, 3, 16, 16)
    child.eval()
    with torch.no_grad():
        reference = child(x)
        torch.testing.assert_close(child(x), reference)
        child.train()
        torch.manual_seed(0)
        first = child(x)
        torch.manual_seed(1)
        assert not torch.allclose(child(x), first)
        child.drop_path_prob = 0.0
        torch.manual_seed(2)
        plain = child(x)
        torch.manual_seed(3)
        torch.testing.assert_close(child(x), plain)
    with pytest.raises(ValueError):
        space.build_child(arch, TASK, drop_path=1.5)


@pytest.mark.parametrize("name", ["enas-micro", "enas-macro"])
def test_aux_head_in_training_only(name: str) -> None:
    space = micro() if name == "enas-micro" else macro()
    arch = space.sample_random(torch.Generator().manual_seed(1))
    child = space.build_child(arch, TASK, aux_head=True)
    x = torch.randn(2, 3, 16, 16)
    logits, aux = child.train()(x)
    assert logits.shape == aux.shape == (2, 10)
    assert child.eval()(x).shape == (2, 10)
    assert not isinstance(space.build_child(arch, TASK).train()(x), tuple)


def test_macro_size_decisions_and_graph() -> None:
    assert macro().size() == 6**3 * 2 ** (0 + 1 + 2)
    assert macro(ops=["conv3"]).size() == 2**3
    decisions = macro(num_layers=4).decisions()
    assert [d.key for d in decisions] == [
        "layers/layer0/op",
        "layers/layer1/op",
        "layers/layer1/skip",
        "layers/layer2/op",
        "layers/layer2/skip",
        "layers/layer3/op",
        "layers/layer3/skip",
    ]
    assert decisions[4].kind == "skip" and decisions[4].choices == ("layer0", "layer1")
    arch = MacroArch((MacroLayer("conv3", ()), MacroLayer("max3", (1,)), MacroLayer("sep5", (1, 0))))
    (cell,) = macro().graph(arch)["cells"]
    assert len(cell["nodes"]) == 3 + 2
    assert len(cell["edges"]) == 4 + 2
    assert {"source": "layer0", "target": "layer2", "label": "skip"} in cell["edges"]


def test_macro_skips_add_earlier_outputs() -> None:
    space = macro()
    plain = MacroArch((MacroLayer("conv3", ()), MacroLayer("max3", (0,)), MacroLayer("avg3", (0, 0))))
    skip = MacroArch((MacroLayer("conv3", ()), MacroLayer("max3", (0,)), MacroLayer("avg3", (1, 0))))
    supernet = space.build_supernet(TASK).train()
    x = torch.randn(2, 3, 16, 16)
    assert not torch.allclose(supernet(x, plain), supernet(x, skip))
    reduces = space.build_child(skip, TASK).pools
    assert [sorted(p.keys()) for p in reduces] == [["0"], ["0", "1"]]  # layer 0 is still needed by layer 2


def test_macro_json_validation_and_layer_override() -> None:
    space = macro()
    arch = space.sample_random(torch.Generator().manual_seed(2))
    data = space.arch_to_json(arch)
    assert [len(layer["skips"]) for layer in data["layers"]] == [0, 1, 2]
    for bad, message in [
        ({"space": "enas-macro", "layers": [{"op": "conv3", "skips": [1]}]}, "skips"),
        ({"space": "enas-macro", "layers": [{"op": "conv9", "skips": []}]}, "unknown operation"),
        (
            {"space": "enas-macro", "layers": [{"op": "conv3", "skips": []}, {"op": "conv3", "skips": [2]}]},
            "0 or 1",
        ),
        ({"space": "enas-macro", "layers": []}, "layers"),
    ]:
        with pytest.raises(ValueError, match=message):
            space.arch_from_json(bad)
    deeper = space.build_child(arch, TASK, num_layers=6)
    assert len(deeper.arch.layers) == 6
    assert deeper.arch.layers[4].skips == (0, 0, 0) + arch.layers[1].skips
    assert space.build_child(arch, TASK, layers=6).arch == deeper.arch
    assert deeper(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="multiple"):
        space.build_child(arch, TASK, num_layers=4)
    with pytest.raises(TypeError):
        space.build_child(arch, TASK, cells_per_stage=2)


def test_option_specs_describe_ranges_and_choices() -> None:
    specs = {s.name: s for s in type(micro()).option_specs()}
    assert specs["num_nodes"].minimum == 2 and specs["num_nodes"].maximum == 8
    assert specs["ops"].type == "multichoice" and specs["ops"].choices == (
        "identity",
        "sep3",
        "sep5",
        "avg3",
        "max3",
    )
    for bad in ({"num_nodes": 9}, {"num_nodes": 1}, {"cells_per_stage": 0}, {"ops": ["sep3", "sep3"]}):
        with pytest.raises(ValueError):
            create_space("enas-micro", **bad)
    with pytest.raises(ValueError):
        create_space("enas-macro", num_layers=2)


@pytest.mark.parametrize("name", ["enas-micro", "enas-macro"])
@pytest.mark.parametrize("size", [8, 9, 13])
def test_any_input_size_from_eight_and_one_channel(name: str, size: int) -> None:
    space = micro() if name == "enas-micro" else macro()
    task = TaskSpec(1, size, 3)
    x = torch.randn(2, 1, size, size)
    supernet = space.build_supernet(task).train()
    for arch in [space.sample_random(torch.Generator().manual_seed(s)) for s in range(3)]:
        out = supernet(x, arch)
        assert out.shape == (2, 3)
        out.sum().backward()
        child = space.build_child(arch, task, aux_head=True).train()
        assert [o.shape for o in child(x)] == [(2, 3), (2, 3)]
