"""A ``nas-rl-rnn`` search's cell on the live and results pages: the tree drawn by the same
``graph.svg`` endpoint as every space, combine ops and activations as labels."""

from __future__ import annotations

import pytest

from tests.webapp.pages.conftest import add_event
from webapp.searches.models import Search

ARCH = {"space": "nas-rl-rnn", "leaves": 2,
        "nodes": [{"combine": "add", "act": "tanh"}, {"combine": "elem_mult", "act": "relu"},
                  {"combine": "max", "act": "sin"}],
        "inject": {"node": 0, "combine": "add", "act": "sigmoid"}, "cell_from": 1}


@pytest.fixture
def tree_search(alice, dataset) -> Search:
    config = {"space": "nas-rl-rnn", "space_options": {"leaves": 2, "hidden_size": 16},
              "controller": "reinforce", "evaluator": "scratch", "budget_seconds": 60.0, "max_archs": None,
              "max_epochs": None,
              "final": {"budget_seconds": 30.0, "epochs": None}}
    search = Search.objects.create(owner=alice, dataset=dataset, name="tree", config=config,
                                   status=Search.RUNNING, progress=0.5, phase="search")
    add_event(search, 1, "arch_sampled", {"step": 1, "architecture": ARCH, "reward": 0.2})
    add_event(search, 2, "best", {"step": 1, "architecture": ARCH, "reward": 0.2})
    return search


@pytest.mark.parametrize("which", ["best", "sampled"])
def test_the_tree_cell_is_drawn_with_combines_and_activations(client_a, tree_search, which):
    response = client_a.get(f"/searches/{tree_search.pk}/graph.svg", {"which": which, "cell": 0})
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode().replace("&#45;", "-")  # Graphviz escapes the minus sign
    for label in ("0: tanh(add)", "1: relu(elem_mult)", "2: sin(max)", "inject: sigmoid(add)", "x_t",
                  "h_{t-1}", "c_{t-1}", "h_t", "c_t", "pre-activation"):
        assert label in svg, label
