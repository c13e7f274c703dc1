"""The nb201 space: decisions, the benchmark's arch strings, JSON, graph, and its networks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces.nb201 import NB201_OPS, NB201Arch

TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"
TINY = TaskSpec(in_channels=3, image_size=8, num_classes=10)
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def _table_strings() -> list[str]:
    with TABLE.open(newline="") as fh:
        return [row["arch"] for row in csv.DictReader(fh)]


def test_decisions_and_size() -> None:
    space = create_space("nb201")
    decisions = space.decisions()
    assert [d.key for d in decisions] == ["cell/edge1<-0", "cell/edge2<-0", "cell/edge2<-1",
                                          "cell/edge3<-0", "cell/edge3<-1", "cell/edge3<-2"]
    assert all(d.kind == "op" and d.choices == NB201_OPS and d.group == "cell" for d in decisions)
    assert [d.node for d in decisions] == [1, 2, 2, 3, 3, 3]
    assert space.size() == 15625
    assert create_space("nb201", ops=["skip_connect", "nor_conv_3x3"]).size() == 64


def test_every_table_string_round_trips() -> None:
    strings = _table_strings()
    assert len(strings) == 15625
    space = create_space("nb201")
    archs = {NB201Arch.from_arch_str(s) for s in strings}
    assert len(archs) == 15625  # the table covers the whole space, each cell once
    for s in strings[:500]:
        arch = NB201Arch.from_arch_str(s)
        assert arch.arch_str == s
        assert space.from_decisions(space.to_decisions(arch)) == arch
        assert space.arch_from_json(space.arch_to_json(arch)) == arch


def test_arch_str_order_and_json() -> None:
    arch = NB201Arch.from_arch_str(BEST)
    assert arch.edges == ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1",
                          "nor_conv_3x3")
    space = create_space("nb201")
    data = space.arch_to_json(arch)
    assert data == {"space": "nb201", "edges": list(arch.edges), "arch_str": BEST}
    assert space.arch_from_json({"arch_str": BEST}) == arch
    assert space.to_decisions(arch) == [3, 3, 3, 1, 2, 3]


@pytest.mark.parametrize("bad", [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|",  # two nodes only
    "|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|",  # wrong source
    "|conv9x9~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|",  # unknown op
])
def test_bad_arch_strings_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        NB201Arch.from_arch_str(bad)


def test_bad_json_raises() -> None:
    space = create_space("nb201")
    with pytest.raises(ValueError, match="disagree"):
        space.arch_from_json({"edges": ["none"] * 6, "arch_str": BEST})
    with pytest.raises(ValueError, match="space"):
        space.arch_from_json({"space": "enas-micro", "arch_str": BEST})
    with pytest.raises(ValueError):
        space.arch_from_json({"edges": ["none"] * 5})


def test_ops_subset() -> None:
    space = create_space("nb201", ops=("skip_connect", "nor_conv_3x3"))
    arch = space.from_decisions([1, 1, 1, 0, 1, 1])
    assert arch.edges == ("nor_conv_3x3",) * 3 + ("skip_connect",) + ("nor_conv_3x3",) * 2
    with pytest.raises(ValueError, match="not in this space"):
        space.to_decisions(NB201Arch.from_arch_str(BEST))  # uses nor_conv_1x1
    with pytest.raises(ValueError):
        create_space("nb201", ops=("conv7x7",))


def test_graph_leaves_out_none_edges() -> None:
    space = create_space("nb201")
    arch = NB201Arch(("nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1"))
    (cell,) = space.graph(arch)["cells"]
    assert [n["kind"] for n in cell["nodes"]] == ["input", "op", "op", "output"]
    assert [(e["source"], e["target"], e["label"]) for e in cell["edges"]] == [
        ("0", "1", "nor_conv_3x3"), ("1", "2", "skip_connect"), ("0", "3", "avg_pool_3x3"),
        ("2", "3", "nor_conv_1x1")]


def test_child_matches_benchmark_parameter_counts() -> None:
    """The skeleton is the benchmark's: its published sizes are 1.53 M (all 3x3) and 0.07 M (all none)."""
    space = create_space("nb201")
    sizes = {op: sum(p.numel() for p in space.build_child(NB201Arch((op,) * 6), TaskSpec()).parameters())
             for op in ("nor_conv_3x3", "none")}
    assert sizes == {"nor_conv_3x3": 1531546, "none": 73306}


def test_child_forward_backward_and_overrides() -> None:
    torch.manual_seed(0)
    space = create_space("nb201")
    arch = NB201Arch.from_arch_str(BEST)
    child = space.build_child(arch, TINY, channels=4, cells_per_stage=1, drop_path=0.2)
    assert child.drop_path_prob == 0.2
    cells = [m for m in child.modules() if type(m).__name__ == "Cell"]
    assert len(cells) == 3
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    logits = child(x)
    assert logits.shape == (4, 10)
    torch.nn.functional.cross_entropy(logits, y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in child.parameters())
    child.eval()
    assert torch.equal(child(x), child(x))  # no drop path at eval
    with pytest.raises(TypeError):
        space.build_child(arch, TINY, layers=3)


def test_supernet_runs_only_the_sampled_path() -> None:
    torch.manual_seed(0)
    space = create_space("nb201", channels=4, cells_per_stage=1)
    net = space.build_supernet(TINY)
    x = torch.randn(2, 3, 8, 8)
    arch = NB201Arch(("avg_pool_3x3", "skip_connect", "none", "nor_conv_1x1", "none", "skip_connect"))
    net(x, arch).sum().backward()
    grads = {name: p.grad for name, p in net.named_parameters() if ".edges." in name}
    assert any(g is not None for n, g in grads.items() if "nor_conv_1x1" in n)
    assert all(g is None for n, g in grads.items() if "nor_conv_3x3" in n)
    other = NB201Arch(("nor_conv_3x3",) * 6)
    assert net(x, other).shape == (2, 10)
