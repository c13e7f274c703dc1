"""NASNet-specific behaviour of ``nasnet`` (the generic contract is in test_spaces): the 13 ops, the
combine decision, its JSON and drawing, drop path, and that ``enas-micro`` is left as it was."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from searchcore.render import graph_to_dot, render_svg
from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces._degenerate import factory_has_parameters
from searchcore.spaces._micro_format import MicroArch, MicroNode
from searchcore.spaces._nasnet_ops import NASNET_OP_TABLE, NASNET_OPS
from searchcore.spaces.base import OptionsError

TASK = TaskSpec(3, 16, 10)


def nasnet(**options: object):
    return create_space("nasnet", **{"channels": 4, "cells_per_stage": 1, "num_nodes": 2, **options})


# node0 = sep7(c_{k-1}) concat max5(c_{k-2}); node1 = identity(node0) + conv1x7_7x1(c_{k-1})
CELL = (MicroNode(1, "sep7", 0, "max5", "concat"), MicroNode(2, "identity", 1, "conv1x7_7x1", "add"))
ARCH = MicroArch(CELL, CELL)


def test_the_13_ops_of_the_paper_keep_the_shape_rules() -> None:
    assert len(NASNET_OPS) == 13 and set(NASNET_OPS) == set(NASNET_OP_TABLE)
    for name in NASNET_OPS:
        for side in (9, 16):
            x = torch.randn(2, 4, side, side)
            same = NASNET_OP_TABLE[name](4, 4, 1, affine=True)
            down = NASNET_OP_TABLE[name](4, 8, 2, affine=False)
            assert same(x).shape == (2, 4, side, side), name
            assert down(x).shape == (2, 8, math.ceil(side / 2), math.ceil(side / 2)), name


def test_pools_and_identity_are_the_parameter_free_ops() -> None:
    free = {op for op in NASNET_OPS if not factory_has_parameters(NASNET_OP_TABLE[op])}
    assert free == {"identity", "avg3", "max3", "max5", "max7"}


def test_size_counts_inputs_ops_and_combines() -> None:
    # node0: (2 inputs x 13 ops)^2 x 2 combines, node1: (3 x 13)^2 x 2, per cell; two independent cells
    assert nasnet().size() == (26**2 * 2 * 39**2 * 2) ** 2
    assert nasnet(ops=["sep3", "max3"], combines=["add"]).size() == (4**2 * 6**2) ** 2


def test_decisions_follow_the_paper_order_with_a_combine_per_block() -> None:
    decisions = nasnet(num_nodes=3).decisions()
    assert len(decisions) == 2 * 3 * 5
    assert [d.key for d in decisions[:5]] == [f"normal/node0/{field}" for field in (
        "in0", "in1", "op0", "op1", "combine")]
    assert [d.kind for d in decisions[:5]] == ["input", "input", "op", "op", "op"]
    assert decisions[2].choices == NASNET_OPS and decisions[4].choices == ("add", "concat")
    assert decisions[15].key == "reduce/node0/in0"
    arch = nasnet(num_nodes=3).sample_random(torch.Generator().manual_seed(0))
    assert nasnet(num_nodes=3).from_decisions(nasnet(num_nodes=3).to_decisions(arch)) == arch


def test_json_carries_each_blocks_combine_and_is_checked() -> None:
    space = nasnet()
    data = space.arch_to_json(ARCH)
    assert data["normal"] == [[1, "sep7", 0, "max5", "concat"], [2, "identity", 1, "conv1x7_7x1", "add"]]
    assert space.arch_from_json(json.loads(json.dumps(data))) == ARCH
    bad = {**data, "normal": [[1, "sep7", 0, "max5", "mul"], data["normal"][1]]}
    with pytest.raises(ValueError, match="unknown combine 'mul'"):
        space.arch_from_json(bad)
    with pytest.raises(ValueError, match="combine]"):
        space.arch_from_json({**data, "normal": [row[:4] for row in data["normal"]]})
    with pytest.raises(ValueError, match="combine 'concat' is not among"):
        nasnet(combines=["add"]).to_decisions(ARCH)
    with pytest.raises(OptionsError, match="combines"):
        nasnet(combines=["max"])


def test_the_drawing_shows_each_blocks_combine() -> None:
    normal, _ = nasnet().graph(ARCH)["cells"]
    assert [n["label"] for n in normal["nodes"] if n["kind"] == "op"] == ["0: concat", "1: add"]
    dot = graph_to_dot(nasnet().graph(ARCH))
    assert "0: concat" in dot and "1: add" in dot and "sep7" in dot
    if shutil.which("dot"):  # the pages' SVG (Debian graphviz)
        svg = render_svg(nasnet().graph(ARCH), inline=True)
        assert svg.count(">0: concat<") == 2 and svg.count(">1: add<") == 2  # one of each per cell


def test_concat_blocks_hold_a_1x1_conv_from_2c_to_c_and_the_child_matches_the_supernet() -> None:
    space = nasnet()
    child = space.build_child(ARCH, TASK)
    assert [list(cell.merges) for cell in child.cells] == [["0"]] * len(child.cells)
    conv = child.cells[0].merges["0"].conv
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (8, 4, (1, 1))
    supernet = space.build_supernet(TASK)
    assert all(list(cell.merges) == ["0", "1"] for cell in supernet.cells)
    child.load_from_supernet(supernet)
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(child(x), supernet(x, ARCH), rtol=1e-5, atol=1e-5)


def test_every_op_in_both_cells_matches_between_child_and_supernet() -> None:
    space, x = nasnet(), torch.randn(2, 3, 13, 13)
    supernet = space.build_supernet(TaskSpec(3, 13, 10))
    for k in range(0, len(NASNET_OPS), 2):
        a, b = NASNET_OPS[k], NASNET_OPS[(k + 1) % len(NASNET_OPS)]
        cell = (MicroNode(0, a, 1, b, "add"), MicroNode(2, b, 0, a, "concat"))
        arch = MicroArch(cell, cell)
        child = space.build_child(arch, TaskSpec(3, 13, 10))
        child.load_from_supernet(supernet)
        torch.testing.assert_close(child(x), supernet(x, arch), rtol=1e-5, atol=1e-5)


def test_an_add_only_space_has_no_concat_convs_and_refuses_a_concat_arch() -> None:
    space = nasnet(combines=["add"])
    assert {d.choices for d in space.decisions() if d.key.endswith("combine")} == {("add",)}
    supernet = space.build_supernet(TASK)
    assert not any("merges" in name for name in supernet.state_dict())
    with pytest.raises(ValueError, match="concatenates"):
        supernet(torch.randn(1, 3, 16, 16), ARCH)


def test_drop_path_drops_paths_in_training_only() -> None:
    child = nasnet().build_child(ARCH, TASK, drop_path=0.5)
    x = torch.randn(4, 3, 16, 16)
    child.train()
    child.drop_path_prob = 0.0
    torch.manual_seed(0)
    plain = child(x)
    torch.testing.assert_close(child(x), plain)  # BN in training mode is deterministic: no drop, same output
    child.drop_path_prob = 0.5  # what the final trainer's schedule sets each epoch, read at forward
    torch.manual_seed(0)
    first = child(x)
    torch.manual_seed(1)
    second = child(x)
    assert not torch.allclose(first, plain) and not torch.allclose(first, second)
    child.eval()
    with torch.no_grad():
        dropped = child(x)
        child.drop_path_prob = 0.0
        torch.testing.assert_close(dropped, child(x))


def test_enas_micro_is_left_as_it_was() -> None:
    space = create_space("enas-micro", channels=4, cells_per_stage=1, num_nodes=2)
    assert "combines" not in space.schema.names()
    assert [d.key for d in space.decisions()[:4]] == [
        "normal/node0/in0", "normal/node0/op0", "normal/node0/in1", "normal/node0/op1"]
    arch = space.sample_random(torch.Generator().manual_seed(0))
    assert all(len(row) == 4 for row in space.arch_to_json(arch)["normal"])
    assert not any("merges" in name for name in space.build_supernet(TASK).state_dict())
    assert [n["label"] for n in space.graph(arch)["cells"][0]["nodes"] if n["kind"] == "op"] == ["0", "1"]
