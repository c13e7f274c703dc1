"""The ``nas-rl-rnn`` space: decisions, the tree cell's arithmetic (the paper's worked example), JSON
checks, the drawing, the supernet = child identity, the degenerate rule and sizes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import torch

from searchcore.render import render_svg
from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces._tree_net import STATE_LIMIT, TreeArch, TreeNode, tree_children

TASK = TaskSpec.language(20, 3)
# Zoph & Le 2017, Figure 5: leaf 0 tanh(add), leaf 1 relu(mult), c_{t-1} into leaf 0 by relu(add),
# c_t from leaf 1's pre-activation, root sigmoid(mult)
PAPER = {"space": "nas-rl-rnn", "leaves": 2,
         "nodes": [{"combine": "add", "act": "tanh"}, {"combine": "elem_mult", "act": "relu"},
                   {"combine": "elem_mult", "act": "sigmoid"}],
         "inject": {"node": 0, "combine": "add", "act": "relu"}, "cell_from": 1}


def test_defaults_are_base_8_with_the_paper_ops_and_enas_language_knobs(check_enas_language_knobs):
    space = create_space("nas-rl-rnn")
    o = space.options
    check_enas_language_knobs(space)
    assert o.leaves == 8
    assert o.combines == ("add", "elem_mult", "max")
    assert o.activations == ("identity", "tanh", "sigmoid", "relu", "sin")
    # 15 tree nodes x (3 combines x 5 activations), the inject's 15, two cell indices over 14 nodes
    assert space.size() == 15**15 * 15 * 14**2
    assert create_space("nas-rl-rnn", leaves=2).size() == 15**3 * 15 * 2**2
    keys = [d.key for d in space.decisions()]
    assert keys[:4] == ["tree/node0/combine", "tree/node0/act", "tree/node1/combine", "tree/node1/act"]
    assert keys[-4:] == ["inject/combine", "inject/act", "tree/inject_node", "tree/cell_from"]
    last = space.decisions()[-1]
    assert (last.kind, len(last.choices), last.group, last.node) == ("input", 14, "tree", 15)


def test_trees_pair_nodes_level_by_level_and_carry_an_odd_one_up():
    assert tree_children(2) == [(0, 1)]
    assert tree_children(8) == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, 13)]
    assert tree_children(3) == [(0, 1), (3, 2)]
    for leaves in range(2, 9):
        assert len(tree_children(leaves)) == leaves - 1


def test_from_decisions_and_json_round_trip():
    space = create_space("nas-rl-rnn", leaves=2, combines=["add", "max"], activations=["tanh", "sin"])
    arch = space.from_decisions([0, 0, 1, 1, 0, 1, 1, 0, 1, 0])
    nodes = (TreeNode("add", "tanh"), TreeNode("max", "sin"), TreeNode("add", "sin"))
    assert arch == TreeArch(nodes, inject_node=1, inject=TreeNode("max", "tanh"), cell_from=0)
    assert space.to_decisions(arch) == [0, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    assert space.arch_from_json(space.arch_to_json(arch)) == arch
    with pytest.raises(ValueError, match="expected an index below 2"):
        space.from_decisions([0, 0, 1, 1, 0, 1, 1, 0, 2, 0])  # the root cannot receive c_{t-1}
    other = create_space("nas-rl-rnn", leaves=2, combines=["add"])
    with pytest.raises(ValueError, match="'max' is not among"):
        other.to_decisions(arch)


def test_one_step_is_the_papers_worked_example(no_dropout):
    space = create_space("nas-rl-rnn", leaves=2, hidden_size=8, **no_dropout)
    arch = space.arch_from_json(PAPER)
    child = space.build_child(arch, TASK).eval()
    torch.manual_seed(0)
    h_prev, c_prev = torch.randn(2, 8), torch.randn(2, 8)
    tokens = torch.tensor([[3, 7]])
    _, state = child.run_state(tokens, torch.cat([h_prev, c_prev], -1))
    cell = child.cell
    x = child.encoder.weight[tokens[0]]
    (w1, w3), (w2, w4) = cell.w_x(x).chunk(2, -1), cell.w_h(h_prev).chunk(2, -1)
    a0 = torch.relu(torch.tanh(w1 + w2) + c_prev)  # leaf 0, then the inject
    a1 = torch.relu(w3 * w4)
    h_t, c_t = torch.sigmoid(a0 * a1), w3 * w4
    torch.testing.assert_close(state, torch.cat([h_t, c_t], -1))
    assert child.size == 16 and child.init_hidden(2).shape == (2, 16)  # the carried state is [h, c]


def test_the_state_is_clamped_so_an_unbounded_cell_stays_finite(no_dropout):
    space = create_space("nas-rl-rnn", leaves=8, hidden_size=8, **no_dropout)
    identity = {"combine": "add", "act": "identity"}
    arch = space.arch_from_json({"space": "nas-rl-rnn", "leaves": 8, "nodes": [identity] * 15,
                                 "inject": {"node": 0, **identity}, "cell_from": 13})
    child = space.build_child(arch, TASK).eval()
    with torch.no_grad():
        for p in child.cell.parameters():
            p.fill_(1.0)  # every step multiplies the state by about 8
        logits, state = child.run_state(torch.zeros(40, 2, dtype=torch.long))
    assert torch.isfinite(logits).all() and float(state.abs().max()) == STATE_LIMIT
    assert space.degenerate_reasons(arch) and not space.degenerate_reasons(space.arch_from_json(PAPER))


def test_child_with_supernet_weights_is_the_supernet_path_for_every_leaf_count():
    for leaves in (2, 3, 8):
        space = create_space("nas-rl-rnn", leaves=leaves, hidden_size=8)
        supernet = space.build_supernet(TASK)
        x = torch.randint(0, 20, (3, 2), generator=torch.Generator().manual_seed(leaves))
        for seed in range(3):
            arch = space.sample_random(torch.Generator().manual_seed(seed))
            child = space.build_child(arch, TASK)
            assert set(child.state_dict()) == set(supernet.state_dict())  # no weight is off the path
            space.load_child_from_supernet(child, supernet)
            child.train(), supernet.train()
            torch.manual_seed(5)
            expected = child(x)
            torch.manual_seed(5)
            torch.testing.assert_close(supernet(x, arch), expected)
            hidden = torch.randn(2, 16)
            torch.testing.assert_close(child.eval().run_state(x, hidden)[1],
                                       supernet.eval().run_arch(x, arch, hidden)[1])


def test_a_network_refuses_an_architecture_with_another_leaf_count():
    supernet = create_space("nas-rl-rnn", leaves=2, hidden_size=8).build_supernet(TASK)
    arch = create_space("nas-rl-rnn", leaves=3).sample_random(torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="2 leaves; the architecture has 3"):
        supernet(torch.zeros(2, 1, dtype=torch.long), arch)
    with pytest.raises(ValueError, match="language models"):
        create_space("nas-rl-rnn").build_supernet(TaskSpec(3, 8, 10))


@pytest.mark.parametrize(("change", "message"), [
    ({"leaves": 9}, "'leaves' must be a whole number 2..8"),
    ({"leaves": True}, "'leaves' must be"),
    ({"nodes": PAPER["nodes"][:2]}, "needs 'nodes': a list of 3 nodes"),
    ({"nodes": [{"combine": "sub", "act": "tanh"}] * 3}, "node 0: unknown combine 'sub'"),
    ({"nodes": [{"combine": "add", "act": "gelu"}] * 3}, "node 0: unknown activation 'gelu'"),
    ({"inject": {"node": 2, "combine": "add", "act": "relu"}}, "inject node must be a tree node 0..1"),
    ({"inject": {"node": 0}}, "'inject' must be"),
    ({"cell_from": "1"}, "'cell_from' must be a tree node"),
    ({"extra": 1}, "no field"),
])
def test_bad_architectures_are_refused_with_the_reason(change, message):
    with pytest.raises(ValueError, match=message):
        create_space("nas-rl-rnn").arch_from_json({**PAPER, **change})


def test_bad_options_are_refused_by_the_schema():
    for bad in ({"leaves": 1}, {"leaves": 16}, {"combines": []}, {"activations": ["gelu"]}):
        with pytest.raises(ValueError):
            create_space("nas-rl-rnn", **bad)


def test_graph_draws_the_tree_with_combines_and_activations_as_labels():
    space = create_space("nas-rl-rnn", leaves=2)
    graph = space.graph(space.arch_from_json(PAPER))
    (cell,) = graph["cells"]
    labels = {n["id"]: n["label"] for n in cell["nodes"]}
    assert labels["node0"] == "0: tanh(add)" and labels["node2"] == "2: sigmoid(elem_mult)"
    assert labels["inject"] == "inject: relu(add)"
    edges = {(e["source"], e["target"]) for e in cell["edges"]}
    assert {("x_t", "node0"), ("h_prev", "node1"), ("node0", "inject"), ("c_prev", "inject"),
            ("inject", "node2"), ("node1", "node2"), ("node2", "h_t"), ("node1", "c_t")} == edges - {
        ("x_t", "node1"), ("h_prev", "node0")}
    svg = render_svg(graph)  # the renderer the live and results pages use
    text = " ".join(t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text"))
    for label in ("tanh(add)", "relu(elem_mult)", "inject: relu(add)", "c_{t-1}", "pre-activation"):
        assert label in text, label


def test_a_cell_whose_state_never_leaves_zero_is_degenerate_and_the_rule_matches_the_network(no_dropout):
    mult = {"combine": "elem_mult", "act": "identity"}
    dead = {"space": "nas-rl-rnn", "leaves": 2, "nodes": [mult] * 3, "inject": {"node": 0, **mult},
            "cell_from": 0}
    space = create_space("nas-rl-rnn", leaves=2, hidden_size=8, **no_dropout)
    assert any("h_t is 0 at every step" in r for r in space.degenerate_reasons(space.arch_from_json(dead)))
    waking = {**dead, "inject": {"node": 0, "combine": "add", "act": "identity"},
              "nodes": [mult, {"combine": "add", "act": "identity"}, {"combine": "add", "act": "tanh"}]}
    assert not space.degenerate_reasons(space.arch_from_json(waking))  # leaf 1 reads x_t: h_t lives
    tokens = torch.randint(0, 20, (6, 2), generator=torch.Generator().manual_seed(0))
    for leaves in (2, 3):
        space = create_space("nas-rl-rnn", leaves=leaves, hidden_size=8, **no_dropout)
        for seed in range(60):
            arch = space.sample_random(torch.Generator().manual_seed(seed))
            child = space.build_child(arch, TASK).eval()
            with torch.no_grad():
                states, hidden = [], None
                for t in range(len(tokens)):  # h_t at every step from the zero state
                    _, hidden = child.run_state(tokens[t:t + 1], hidden)
                    states.append(hidden[:, :8])
            zero = all(bool((h == 0).all()) for h in states)
            assert zero == any("h_t is 0" in r for r in space.degenerate_reasons(arch)), arch
