"""NAS-RL recurrent cell search space (Zoph & Le, ICLR 2017, §3.4), for word-level language models.

A tree over ``x_t`` and ``h_{t-1}`` with ``leaves`` leaves (the paper's "base 2" and "base 8"; the
network and the node numbering are in ``_tree_net.py``). Decisions, in the paper's order: per tree
node ``k`` (leaves first, the root last) ``tree/node{k}/combine`` (add, elem_mult, max) and
``tree/node{k}/act`` (identity, tanh, sigmoid, relu, sin); then the cell inject's ``inject/combine``
and ``inject/act`` (how ``c_{t-1}`` joins a node); then the two "cell indices", kind ``input`` over
the tree's non-root nodes: ``tree/inject_node`` (the node ``c_{t-1}`` is injected into) and
``tree/cell_from`` (the node whose pre-activation becomes ``c_t``). Base 8 has 15 nodes:
``15^15 * 15 * 14^2`` (about 1.3e21) cells; base 2 has ``15^3 * 15 * 2^2`` = 202,500.

Default ``leaves`` 8, the paper's PTB cell: one step is two ``Linear(H, 8H)`` and 15 element-wise
ops, about twice an LSTM's step (4 gates), which a CPU search affords at hidden 200. Sizes and the
language-model knobs (embedding/hidden width, tying, dropouts) are ``enas-rnn``'s, with its defaults.

The tree's combines and activations have no parameters, so a supernet is the network itself run
with a given cell: ``shared`` (ENAS weight sharing) costs one network and is offered besides the
paper's ``scratch`` (every child trained on its own, ``evaluators/scratch_job.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import check_language_task, check_space_field, named_overrides
from searchcore.spaces._tree_net import (
    ACTIVATIONS,
    COMBINES,
    MAX_LEAVES,
    MIN_LEAVES,
    TreeArch,
    TreeChild,
    TreeNode,
    TreeSupernet,
    tree_children,
)
from searchcore.spaces.base import LANGUAGE, Decision, DecisionValue, SearchSpace, TaskSpec, options_class
from searchcore.spaces.enas_rnn import SCHEMA as ENAS_RNN_SCHEMA
from searchcore.spaces.enas_rnn import _dropouts

_LM_OPTIONS = tuple(o for o in ENAS_RNN_SCHEMA.options if o.name not in ("activations", "num_nodes"))
SCHEMA = Schema("nas-rl-rnn space", (
    Option("leaves", "int", 8, "leaves of the tree (the paper's base 2 and base 8; any count between works)",
           MIN_LEAVES, MAX_LEAVES),
    Option("combines", "multichoice", COMBINES, "candidate combine ops of every tree node", choices=COMBINES),
    Option("activations", "multichoice", ACTIVATIONS, "candidate activations of every tree node",
           choices=ACTIVATIONS),
    *_LM_OPTIONS,
))
NasRlRnnOptions = options_class(SCHEMA, "NasRlRnnOptions", __name__)
LM_NAMES = tuple(o.name for o in _LM_OPTIONS)


@register_space
class NasRlRnnSpace(SearchSpace):
    name = "nas-rl-rnn"
    schema = SCHEMA
    Options = NasRlRnnOptions
    description = ("NAS-RL (Zoph & Le 2017) recurrent cell: a tree over x_t and h_{t-1}, per node a combine "
                   "(add, multiply, max) and an activation, plus where c_{t-1} is injected and c_t taken "
                   "(language modelling)")
    task_kind = LANGUAGE
    has_supernet = True
    initial_nodes = {"tree": 0}
    options: NasRlRnnOptions

    @property
    def leaves(self) -> int:
        return self.options.leaves

    def node_count(self) -> int:
        return 2 * self.leaves - 1

    # -- decisions ------------------------------------------------------------------
    def decisions(self) -> list[Decision]:
        combines, acts = tuple(self.options.combines), tuple(self.options.activations)
        out: list[Decision] = []
        for k in range(self.node_count()):
            out.append(Decision(f"tree/node{k}/combine", "op", combines, "tree", k))
            out.append(Decision(f"tree/node{k}/act", "op", acts, "tree", k))
        last = self.node_count()
        out.append(Decision("inject/combine", "op", combines, "inject", 0))
        out.append(Decision("inject/act", "op", acts, "inject", 0))
        targets = tuple(f"node{k}" for k in range(last - 1))  # every node but the root
        out.append(Decision("tree/inject_node", "input", targets, "tree", last))
        out.append(Decision("tree/cell_from", "input", targets, "tree", last))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> TreeArch:
        self.validate_values(values)
        combines, acts = self.options.combines, self.options.activations
        v = [int(x) for x in values]  # type: ignore[arg-type]
        n = self.node_count()
        nodes = tuple(TreeNode(combines[v[2 * k]], acts[v[2 * k + 1]]) for k in range(n))
        return TreeArch(nodes, v[2 * n + 2], TreeNode(combines[v[2 * n]], acts[v[2 * n + 1]]), v[2 * n + 3])

    def to_decisions(self, arch: TreeArch) -> list[DecisionValue]:
        if len(arch.nodes) != self.node_count():
            raise ValueError(f"architecture has {arch.leaves} leaves; this space has {self.leaves}")
        out: list[DecisionValue] = []
        for node in (*arch.nodes, arch.inject):
            out += [self._index("combine", node.combine), self._index("activation", node.act)]
        return [*out, arch.inject_node, arch.cell_from]

    def _index(self, what: str, value: str) -> int:
        allowed = self.options.combines if what == "combine" else self.options.activations
        if value not in allowed:
            raise ValueError(f"{what} {value!r} is not among this space's {list(allowed)}")
        return list(allowed).index(value)

    # -- data -----------------------------------------------------------------------
    def arch_to_json(self, arch: TreeArch) -> dict[str, Any]:
        return {"space": self.name, "leaves": arch.leaves,
                "nodes": [{"combine": n.combine, "act": n.act} for n in arch.nodes],
                "inject": {"node": arch.inject_node, "combine": arch.inject.combine, "act": arch.inject.act},
                "cell_from": arch.cell_from}

    def arch_from_json(self, data: dict[str, Any]) -> TreeArch:
        """Any leaf count 2..8 and any combine/activation: a child need not match these options."""
        check_space_field(data, self.name)
        unknown = sorted(set(data) - {"space", "leaves", "nodes", "inject", "cell_from"})
        if unknown:
            raise ValueError(f"a nas-rl-rnn architecture has no field(s) {', '.join(unknown)}")
        leaves = data.get("leaves")
        if isinstance(leaves, bool) or not isinstance(leaves, int) or not MIN_LEAVES <= leaves <= MAX_LEAVES:
            raise ValueError(f"'leaves' must be a whole number {MIN_LEAVES}..{MAX_LEAVES}, not {leaves!r}")
        rows = data.get("nodes")
        if not isinstance(rows, list) or len(rows) != 2 * leaves - 1:
            raise ValueError(f"a tree of {leaves} leaves needs 'nodes': a list of {2 * leaves - 1} nodes")
        nodes = tuple(_parse_node(f"node {k}", row) for k, row in enumerate(rows))
        inject = data.get("inject")
        if not isinstance(inject, dict) or set(inject) != {"node", "combine", "act"}:
            raise ValueError(f"'inject' must be {{'node', 'combine', 'act'}}, got {inject!r}")
        node = _tree_index("inject node", inject["node"], len(rows))
        return TreeArch(nodes, node, _parse_node("inject", {k: inject[k] for k in ("combine", "act")}),
                        _tree_index("'cell_from'", data.get("cell_from"), len(rows)))

    def graph(self, arch: TreeArch) -> dict[str, Any]:
        """One time step: leaves read x_t and h_{t-1}; node labels ``k: act(combine)``; c_{t-1} enters
        through an inject node, c_t leaves from a node's pre-activation, h_t is the root."""
        n = len(arch.nodes)
        nodes = [{"id": "x_t", "label": "x_t", "kind": "input"},
                 {"id": "h_prev", "label": "h_{t-1}", "kind": "input"},
                 {"id": "c_prev", "label": "c_{t-1}", "kind": "input"}]
        nodes += [{"id": f"node{k}", "label": f"{k}: {_label(node)}", "kind": "op"}
                  for k, node in enumerate(arch.nodes)]
        nodes += [{"id": "inject", "label": f"inject: {_label(arch.inject)}", "kind": "op"},
                  {"id": "h_t", "label": "h_t", "kind": "output"},
                  {"id": "c_t", "label": "c_t", "kind": "output"}]
        edges = []
        for k in range(arch.leaves):
            edges += [{"source": "x_t", "target": f"node{k}", "label": f"W{k}"},
                      {"source": "h_prev", "target": f"node{k}", "label": f"U{k}"}]
        pairs = enumerate(tree_children(arch.leaves))
        parent_of = {child: arch.leaves + i for i, pair in pairs for child in pair}
        edges += [{"source": f"node{arch.inject_node}", "target": "inject", "label": ""},
                  {"source": "c_prev", "target": "inject", "label": ""}]
        for child, parent in parent_of.items():
            source = "inject" if child == arch.inject_node else f"node{child}"
            edges.append({"source": source, "target": f"node{parent}", "label": ""})
        edges += [{"source": f"node{n - 1}", "target": "h_t", "label": ""},
                  {"source": f"node{arch.cell_from}", "target": "c_t", "label": "pre-activation"}]
        return {"cells": [{"name": f"tree (base {arch.leaves})", "nodes": nodes, "edges": edges}]}

    def degenerate_reasons(self, arch: TreeArch) -> list[str]:
        """Two collapses. A cell whose ``h_t`` is 0 at every step: the state starts at 0, and a tree
        that multiplies every path by it (``elem_mult`` leaves under activations with f(0) = 0, ...)
        never leaves 0, so the model can only learn word frequencies (seen by hand: a base-8 search
        derived its barely trained controller's greedy cell, all ``elem_mult``/identity). And a cell with no
        non-linearity anywhere (every combine ``add``, every activation identity, the inject too):
        a linear recurrence, the analogue of a cell of parameter-free ops only."""
        reasons = []
        if h_always_zero(arch):
            reasons.append("h_t is 0 at every step: every path from x_t to h_t is multiplied by the "
                           "state, which starts at 0, so the cell never carries anything")
        if all(n.combine == "add" and n.act == "identity" for n in (*arch.nodes, arch.inject)):
            reasons.append("every combine is add and every activation identity: the cell is a linear "
                           "recurrence with no non-linearity")
        return reasons

    # -- networks -------------------------------------------------------------------
    def build_supernet(self, task: TaskSpec) -> nn.Module:
        check_language_task(task, self.name)
        o = self.options
        dropouts = _dropouts(_lm_vars(o))
        return TreeSupernet(task.vocab_size, o.hidden_size, self.leaves, dropouts, o.tie_weights)

    def build_child(self, arch: TreeArch, task: TaskSpec, *, hidden_size: int | None = None,
                    tie_weights: bool | None = None, dropout_words: float | None = None,
                    dropout_embedding: float | None = None, dropout_hidden: float | None = None,
                    dropout_output: float | None = None) -> nn.Module:
        """Overrides as ``enas-rnn``'s (``None``: this space's option); the child's leaves are its
        architecture's."""
        check_language_task(task, self.name)
        given = {"hidden_size": hidden_size, "tie_weights": tie_weights, "dropout_words": dropout_words,
                 "dropout_embedding": dropout_embedding, "dropout_hidden": dropout_hidden,
                 "dropout_output": dropout_output}
        cfg = named_overrides(_lm_vars(self.options), given)
        return TreeChild(arch, task.vocab_size, cfg["hidden_size"], _dropouts(cfg), bool(cfg["tie_weights"]))


def h_always_zero(arch: TreeArch) -> bool:
    """Whether ``h_t`` is exactly 0 at every step from the zero initial state, by tracking which
    values may be non-zero: ``W x_t`` may, a state that is 0 is not; ``add``/``max`` of two values
    may be non-zero if either may, ``elem_mult`` only if both may; every activation keeps 0 at 0
    except sigmoid (0.5). Three steps reach the fixed point (c_t can only wake h_t once)."""
    children = tree_children(arch.leaves)
    h_live = c_live = False
    for _ in range(3):
        outs: list[bool] = []
        c_next = False
        for k, node in enumerate(arch.nodes):
            a, b = (True, h_live) if k < arch.leaves else (outs[i] for i in children[k - arch.leaves])
            pre = _live_combine(node.combine, a, b)
            out = pre or node.act == "sigmoid"
            if k == arch.cell_from:
                c_next = pre
            if k == arch.inject_node:
                out = _live_combine(arch.inject.combine, out, c_live) or arch.inject.act == "sigmoid"
            outs.append(out)
        h_live, c_live = outs[-1], c_next
        if h_live:
            return False
    return True


def _live_combine(name: str, a: bool, b: bool) -> bool:
    return a and b if name == "elem_mult" else a or b


def _lm_vars(options: Any) -> dict[str, Any]:
    return {name: getattr(options, name) for name in LM_NAMES}


def _label(node: TreeNode) -> str:
    return f"{node.act}({node.combine})"


def _parse_node(where: str, row: Any) -> TreeNode:
    if not isinstance(row, dict) or set(row) != {"combine", "act"}:
        raise ValueError(f"{where}: expected {{'combine': ..., 'act': ...}}, got {row!r}")
    if row["combine"] not in COMBINES:
        raise ValueError(f"{where}: unknown combine {row['combine']!r}; choose from {', '.join(COMBINES)}")
    if row["act"] not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {row['act']!r}; choose from {', '.join(ACTIVATIONS)}")
    return TreeNode(row["combine"], row["act"])


def _tree_index(what: str, value: Any, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count - 1:
        raise ValueError(f"{what} must be a tree node 0..{count - 2} (not the root), got {value!r}")
    return value


__all__ = ["NasRlRnnOptions", "NasRlRnnSpace", "SCHEMA", "h_always_zero"]
