"""ENAS recurrent cell search space (Pham et al. 2018, §2.1), for word-level language models.

Decisions, in ENAS' order: ``cell/node0/act``, then per node ``l >= 1`` ``cell/node{l}/prev``
(kind ``input``: one earlier node) and ``cell/node{l}/act`` (kind ``op``: identity, ReLU, tanh,
sigmoid). The space has ``4^N * (N-1)!`` cells (N = 12 as ENAS' PTB script: about 6.7e14).
The network and the supernet/child weight layout are in ``_rnn_net.py``.

Sizes: ``hidden_size`` is both the embedding and the hidden width (they are tied, as ENAS); the
paper's PTB cell used 1000 (the official ``ptb_search.sh``: 720); the default here is 200 so a
CPU search runs. Dropouts default to ENAS' PTB search script (``ptb_search.sh``: e/x/h/o keep
0.75/0.25/0.75/0.25).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import check_language_task, check_space_field, named_overrides
from searchcore.spaces._rnn_net import ACTIVATIONS, Dropouts, RnnArch, RnnChild, RnnNode, RnnSupernet
from searchcore.spaces.base import LANGUAGE, Decision, DecisionValue, SearchSpace, TaskSpec, options_class

MAX_NODES = 24
_DROPOUT_HELP = "drop probability while training"
SCHEMA = Schema("enas-rnn space", (
    Option("activations", "multichoice", ACTIVATIONS, "candidate activations of every node",
           choices=ACTIVATIONS),
    Option("num_nodes", "int", 12, "nodes of the cell (ENAS' PTB script: 12)", 2, MAX_NODES),
    Option("hidden_size", "int", 200, "embedding and hidden width (ENAS: 720-1000; 200 fits a CPU)", 8, 2048),
    Option("tie_weights", "bool", True, "the decoder reuses the embedding matrix (ENAS, AWD-LSTM)"),
    Option("dropout_words", "float", 0.25,
           f"whole words of the embedding: {_DROPOUT_HELP} (ENAS e_keep 0.75)", 0.0, 0.95),
    Option("dropout_embedding", "float", 0.75, f"embedded input x_t: {_DROPOUT_HELP} (ENAS x_keep 0.25)",
           0.0, 0.95),
    Option("dropout_hidden", "float", 0.25, f"state into every cell edge: {_DROPOUT_HELP} (ENAS h_keep 0.75)",
           0.0, 0.95),
    Option("dropout_output", "float", 0.75, f"cell output: {_DROPOUT_HELP} (ENAS o_keep 0.25)", 0.0, 0.95),
))
EnasRnnOptions = options_class(SCHEMA, "EnasRnnOptions", __name__)


@register_space
class EnasRnnSpace(SearchSpace):
    name = "enas-rnn"
    schema = SCHEMA
    Options = EnasRnnOptions
    description = ("ENAS recurrent cell: each node picks an earlier node and an activation; highway "
                   "gates, output = mean of the loose ends (language modelling)")
    task_kind = LANGUAGE
    has_supernet = True
    initial_nodes = {"cell": 0}
    options: EnasRnnOptions

    def decisions(self) -> list[Decision]:
        acts = tuple(self.options.activations)
        out = [Decision("cell/node0/act", "op", acts, "cell", 0)]
        for i in range(1, self.options.num_nodes):
            labels = tuple(f"node{k}" for k in range(i))
            out.append(Decision(f"cell/node{i}/prev", "input", labels, "cell", i))
            out.append(Decision(f"cell/node{i}/act", "op", acts, "cell", i))
        return out

    def from_decisions(self, values: Sequence[DecisionValue]) -> RnnArch:
        self.validate_values(values)
        acts = self.options.activations
        nodes = [RnnNode(None, acts[values[0]])]  # type: ignore[index]
        for i in range(1, self.options.num_nodes):
            prev, act = values[2 * i - 1], values[2 * i]
            nodes.append(RnnNode(int(prev), acts[act]))  # type: ignore[arg-type,index]
        return RnnArch(tuple(nodes))

    def to_decisions(self, arch: RnnArch) -> list[DecisionValue]:
        if len(arch.nodes) != self.options.num_nodes:
            raise ValueError(f"architecture has {len(arch.nodes)} nodes; "
                             f"this space has {self.options.num_nodes}")
        out: list[DecisionValue] = []
        for i, node in enumerate(arch.nodes):
            if node.act not in self.options.activations:
                raise ValueError(f"activation {node.act!r} is not among this space's "
                                 f"{list(self.options.activations)}")
            if i:
                out.append(int(node.prev))  # type: ignore[arg-type]
            out.append(self.options.activations.index(node.act))
        return out

    def arch_to_json(self, arch: RnnArch) -> dict[str, Any]:
        nodes = [{"act": n.act} if n.prev is None else {"prev": n.prev, "act": n.act} for n in arch.nodes]
        return {"space": self.name, "nodes": nodes}

    def arch_from_json(self, data: dict[str, Any]) -> RnnArch:
        """Any node count 2..24 and any of the four activations: a child need not match these options."""
        check_space_field(data, self.name)
        rows = data.get("nodes")
        if not isinstance(rows, list) or not 2 <= len(rows) <= MAX_NODES:
            raise ValueError(f"an enas-rnn architecture needs 'nodes': a list of 2..{MAX_NODES} nodes")
        return RnnArch(tuple(_parse_node(i, row) for i, row in enumerate(rows)))

    def graph(self, arch: RnnArch) -> dict[str, Any]:
        """The cell of one time step: inputs x_t and h_{t-1}, a node per activation, h_t = mean."""
        nodes = [{"id": "x_t", "label": "x_t", "kind": "input"},
                 {"id": "h_prev", "label": "h_{t-1}", "kind": "input"}]
        nodes += [{"id": f"node{i}", "label": f"{i}: {n.act}", "kind": "op"}
                  for i, n in enumerate(arch.nodes)]
        nodes.append({"id": "h_t", "label": "h_t (mean)", "kind": "output"})
        edges = [{"source": "x_t", "target": "node0", "label": ""},
                 {"source": "h_prev", "target": "node0", "label": ""}]
        edges += [{"source": f"node{j}", "target": f"node{i}", "label": ""} for j, i in arch.edges()]
        edges += [{"source": f"node{k}", "target": "h_t", "label": "avg"} for k in arch.loose_ends()]
        return {"cells": [{"name": "cell", "nodes": nodes, "edges": edges}]}

    def build_supernet(self, task: TaskSpec) -> nn.Module:
        o = self.options
        check_language_task(task, self.name)
        return RnnSupernet(task.vocab_size, o.hidden_size, o.num_nodes, _dropouts(vars_of(o)), o.tie_weights)

    def build_child(self, arch: RnnArch, task: TaskSpec, *, hidden_size: int | None = None,
                    tie_weights: bool | None = None, dropout_words: float | None = None,
                    dropout_embedding: float | None = None, dropout_hidden: float | None = None,
                    dropout_output: float | None = None) -> nn.Module:
        """Overrides (``None``: this space's option) are named, so a trainer's ``drop_path`` is left
        out by ``training.io.child_overrides`` and any other name is a ``TypeError``."""
        check_language_task(task, self.name)
        given = {"hidden_size": hidden_size, "tie_weights": tie_weights, "dropout_words": dropout_words,
                 "dropout_embedding": dropout_embedding, "dropout_hidden": dropout_hidden,
                 "dropout_output": dropout_output}
        cfg = named_overrides(vars_of(self.options), given)
        return RnnChild(arch, task.vocab_size, cfg["hidden_size"], _dropouts(cfg), bool(cfg["tie_weights"]))


def vars_of(options: Any) -> dict[str, Any]:
    return {name: getattr(options, name) for name in SCHEMA.names()}


def _dropouts(cfg: dict[str, Any]) -> Dropouts:
    values = {name: float(cfg[f"dropout_{name}"]) for name in ("words", "embedding", "hidden", "output")}
    for name, prob in values.items():
        if not 0.0 <= prob < 1.0:
            raise ValueError(f"dropout_{name} must be in [0, 1), not {prob}")
    return Dropouts(**values)


def _parse_node(i: int, row: Any) -> RnnNode:
    wanted = {"act"} if i == 0 else {"prev", "act"}
    if not isinstance(row, dict) or set(row) != wanted:
        shape = "{'act': ...}" if i == 0 else "{'prev': <earlier node>, 'act': ...}"
        raise ValueError(f"node {i}: expected {shape}, got {row!r}")
    if row["act"] not in ACTIVATIONS:
        raise ValueError(f"node {i}: unknown activation {row['act']!r}; choose from {', '.join(ACTIVATIONS)}")
    prev = row.get("prev")
    if i and (isinstance(prev, bool) or not isinstance(prev, int) or not 0 <= prev < i):
        raise ValueError(f"node {i}: 'prev' must be an earlier node 0..{i - 1}, got {prev!r}")
    return RnnNode(prev, row["act"])
