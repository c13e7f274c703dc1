"""A plain LSTM language model as a space with a single architecture: the language control.

As ``resnet20`` is for images, ``lstm`` is the hand-designed network a user would train instead of
searching a recurrent cell: nothing is chosen (no decisions, no supernet), so a run of it is final
training only, for the whole budget (``searchcore.compat.trains_only``), by the language trainer.
Its knobs are ``enas-rnn``'s with the same defaults (hidden and embedding width 200, tied decoder,
ENAS' PTB dropouts), so at equal options the two differ only in the recurrent cell. The network
is ``_lstm_net.LstmLanguageModel`` (Hochreiter & Schmidhuber 1997, with a forget gate; the
regularised word-level LM of Zaremba et al. 2014 / AWD-LSTM's dropouts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._common import check_language_task, named_overrides
from searchcore.spaces._fixed import FixedArchSpace
from searchcore.spaces._lstm_net import LstmLanguageModel
from searchcore.spaces.base import LANGUAGE, TaskSpec, options_class
from searchcore.spaces.enas_rnn import SCHEMA as ENAS_RNN_SCHEMA
from searchcore.spaces.enas_rnn import _dropouts

CELL = "lstm"
_SHARED = ("hidden_size", "tie_weights", "dropout_words", "dropout_embedding", "dropout_hidden",
           "dropout_output")
_ENAS = {o.name: o for o in ENAS_RNN_SCHEMA.options}
SCHEMA = Schema("lstm space", (
    Option("hidden_size", "int", _ENAS["hidden_size"].default, "embedding and hidden width (as enas-rnn)",
           8, 2048),
    Option("num_layers", "int", 1, "stacked LSTM layers (1: one recurrent layer, as an ENAS cell)", 1, 4),
    *(_ENAS[name] for name in _SHARED[1:]),
))
LstmOptions = options_class(SCHEMA, "LstmOptions", __name__)


@dataclass(frozen=True)
class LstmArch:
    """The space's only architecture; its sizes are the space's options, not choices."""

    cell: str = CELL


@register_space
class LstmSpace(FixedArchSpace):
    name = "lstm"
    schema = SCHEMA
    Options = LstmOptions
    description = ("Hand-designed LSTM language model: one fixed network, trained for the whole budget "
                   "without a search; the baseline a recurrent-cell search is compared with.")
    task_kind = LANGUAGE
    arch_type = LstmArch
    arch_field = "cell"
    options: LstmOptions

    def graph(self, arch: LstmArch) -> dict[str, Any]:
        """The network as a chain: words, embedding, the LSTM layers, the decoder."""
        o = self.options
        tied = ", tied" if o.tie_weights else ""
        nodes = [{"id": "input", "label": "words", "kind": "input"},
                 {"id": "embedding", "label": f"embedding, {o.hidden_size}", "kind": "op"},
                 {"id": "lstm", "label": f"{o.num_layers} x LSTM, {o.hidden_size}", "kind": "op"},
                 {"id": "decoder", "label": f"linear decoder{tied}", "kind": "output"}]
        edges = [{"source": a["id"], "target": b["id"], "label": ""}
                 for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
        return {"cells": [{"name": f"LSTM-{o.num_layers}x{o.hidden_size}", "nodes": nodes, "edges": edges}]}

    def build_child(self, arch: LstmArch, task: TaskSpec, *, hidden_size: int | None = None,
                    num_layers: int | None = None, tie_weights: bool | None = None,
                    dropout_words: float | None = None, dropout_embedding: float | None = None,
                    dropout_hidden: float | None = None, dropout_output: float | None = None
                    ) -> LstmLanguageModel:
        """Overrides (``None``: this space's option) are named, as ``enas-rnn``'s."""
        check_language_task(task, self.name)
        given = {"hidden_size": hidden_size, "num_layers": num_layers, "tie_weights": tie_weights,
                 "dropout_words": dropout_words, "dropout_embedding": dropout_embedding,
                 "dropout_hidden": dropout_hidden, "dropout_output": dropout_output}
        cfg = named_overrides({n: getattr(self.options, n) for n in SCHEMA.names()}, given,
                              ("hidden_size", "num_layers"))
        return LstmLanguageModel(task.vocab_size, cfg["hidden_size"], cfg["num_layers"], _dropouts(cfg),
                                 bool(cfg["tie_weights"]))


__all__ = ["LstmArch", "LstmOptions", "LstmSpace"]
