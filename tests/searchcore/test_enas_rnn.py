"""The ``enas-rnn`` space: decisions, the cell's arithmetic, JSON checks, drawing, sizes."""

from __future__ import annotations

import math

import pytest
import torch

from searchcore.spaces import TaskSpec, create_space
from searchcore.spaces._rnn_net import RnnArch, RnnNode

TASK = TaskSpec.language(20, 3)


def test_defaults_follow_the_enas_ptb_script_and_the_space_is_a_language_space(check_enas_language_knobs):
    space = create_space("enas-rnn")
    check_enas_language_knobs(space)
    assert space.options.num_nodes == 12
    # 4 activations per node, node l picks one of l earlier nodes: 4^N (N-1)!
    assert space.size() == 4**12 * math.factorial(11)
    keys = [d.key for d in space.decisions()]
    assert keys[:5] == ["cell/node0/act", "cell/node1/prev", "cell/node1/act", "cell/node2/prev",
                        "cell/node2/act"]
    prev2 = space.decisions()[3]
    assert (prev2.kind, prev2.choices, prev2.group, prev2.node) == ("input", ("node0", "node1"), "cell", 2)


def test_from_decisions_builds_the_cell_and_its_loose_ends():
    space = create_space("enas-rnn", num_nodes=4, activations=["tanh", "relu"])
    arch = space.from_decisions([0, 0, 1, 0, 0, 2, 1])
    nodes = (RnnNode(None, "tanh"), RnnNode(0, "relu"), RnnNode(0, "tanh"), RnnNode(2, "relu"))
    assert arch == RnnArch(nodes)
    assert arch.loose_ends() == (1, 3) and arch.edges() == ((0, 1), (0, 2), (2, 3))
    assert space.to_decisions(arch) == [0, 0, 1, 0, 0, 2, 1]
    with pytest.raises(ValueError, match="expected an index below 3"):
        space.from_decisions([0, 0, 1, 0, 0, 3, 1])  # node 3 cannot read itself


def test_one_step_is_the_highway_cell_of_the_paper(no_dropout):
    """h_t by hand for a 3-node cell: node0 from x and h, node1 and node2 both read node0."""
    space = create_space("enas-rnn", num_nodes=3, hidden_size=8, **no_dropout)
    arch = space.arch_from_json({"space": "enas-rnn", "nodes": [
        {"act": "tanh"}, {"prev": 0, "act": "relu"}, {"prev": 0, "act": "sigmoid"}]})
    child = space.build_child(arch, TASK).eval()
    torch.manual_seed(0)
    h_prev = torch.randn(2, 8)
    tokens = torch.tensor([[3, 7]])
    logits, h_t = child.run_state(tokens, h_prev)

    def highway(z, carry, act):
        c, h = z.chunk(2, dim=-1)
        return torch.sigmoid(c) * act(h) + (1 - torch.sigmoid(c)) * carry

    cell = child.cell
    x = child.encoder(tokens[0])
    s0 = highway(cell.w_x(x) + cell.w_h(h_prev), h_prev, torch.tanh)
    s1 = highway(cell.edges["0_1"](s0), s0, torch.relu)
    s2 = highway(cell.edges["0_2"](s0), s0, torch.sigmoid)
    expected = (s1 + s2) / 2  # node 0 is read; nodes 1 and 2 are the loose ends
    torch.testing.assert_close(h_t, expected)
    torch.testing.assert_close(logits[0], expected @ child.encoder.weight.t() + child.decoder.bias)
    assert child.decoder.weight is child.encoder.weight  # tied


def test_untied_child_has_its_own_decoder_and_overrides_change_sizes():
    space = create_space("enas-rnn", num_nodes=3, hidden_size=8)
    arch = space.sample_random(torch.Generator().manual_seed(0))
    child = space.build_child(arch, TASK, hidden_size=6, tie_weights=False)
    assert child.decoder.weight is not child.encoder.weight and child.encoder.weight.shape == (20, 6)
    assert child(torch.zeros(3, 2, dtype=torch.long)).shape == (3, 2, 20)
    with pytest.raises(ValueError, match="language models"):
        space.build_child(arch, TaskSpec(3, 16, 10))
    with pytest.raises(ValueError, match="language models"):
        space.build_supernet(TaskSpec(3, 16, 10))


def test_supernet_refuses_an_architecture_of_another_size():
    space = create_space("enas-rnn", num_nodes=3, hidden_size=8)
    supernet = space.build_supernet(TASK)
    other = create_space("enas-rnn", num_nodes=4).sample_random(torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="3 nodes; the architecture has 4"):
        supernet(torch.zeros(2, 1, dtype=torch.long), other)
    with pytest.raises(ValueError, match="seq_len, batch"):
        supernet(torch.zeros(2, dtype=torch.long), space.sample_random(torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(("payload", "message"), [
    ({"space": "enas-rnn"}, "needs 'nodes'"),
    ({"space": "enas-rnn", "nodes": [{"act": "tanh"}]}, "2..24 nodes"),
    ({"space": "enas-rnn", "nodes": [{"act": "tanh"}, {"prev": 1, "act": "tanh"}]}, "earlier node 0..0"),
    ({"space": "enas-rnn", "nodes": [{"act": "tanh"}, {"prev": True, "act": "tanh"}]}, "earlier node"),
    ({"space": "enas-rnn", "nodes": [{"act": "gelu"}, {"prev": 0, "act": "tanh"}]}, "unknown activation"),
    ({"space": "enas-rnn", "nodes": [{"act": "tanh", "prev": 0}, {"prev": 0, "act": "tanh"}]}, "node 0"),
    ({"space": "enas-rnn", "nodes": [{"act": "tanh"}, {"act": "tanh"}]}, "node 1"),
])
def test_bad_architectures_are_refused_with_the_reason(payload, message):
    with pytest.raises(ValueError, match=message):
        create_space("enas-rnn").arch_from_json(payload)


def test_graph_draws_the_dag_with_activations_as_labels():
    space = create_space("enas-rnn", num_nodes=4)
    arch = space.from_decisions([2, 0, 1, 1, 0, 0, 3])
    (cell,) = space.graph(arch)["cells"]
    labels = {n["id"]: n["label"] for n in cell["nodes"]}
    assert labels["node0"] == "0: tanh" and labels["node3"] == "3: sigmoid"
    pairs = {(e["source"], e["target"]) for e in cell["edges"]}
    assert {("x_t", "node0"), ("h_prev", "node0"), ("node0", "node1"), ("node1", "node2"),
            ("node0", "node3")} <= pairs
    assert {s for s, t in pairs if t == "h_t"} == {"node2", "node3"}
