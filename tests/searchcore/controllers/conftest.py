"""Shared fixtures of the controller tests: a decision list with every kind."""

from __future__ import annotations

import pytest

from searchcore.spaces import Decision

OP3, OP2 = ("a", "b", "c"), ("x", "y")


@pytest.fixture
def mixed_decisions() -> list[Decision]:
    """Two groups: a micro-like cell (input + op per node, 2 initial nodes) and a macro-like chain
    (op + skip per layer, the first skip over no earlier layer); two op lists of different sizes."""
    decisions = []
    for node in range(2, 4):
        decisions.append(Decision(f"c{node}/in", "input", tuple(str(k) for k in range(node)), "cell", node))
        decisions.append(Decision(f"c{node}/op", "op", OP3, "cell", node))
    for layer in range(3):
        decisions.append(Decision(f"m{layer}/op", "op", OP2, "macro", layer))
        earlier = tuple(str(k) for k in range(layer))
        decisions.append(Decision(f"m{layer}/skip", "skip", earlier, "macro", layer))
    return decisions
