"""The user-settable final training of a language model: its own knobs and defaults.

A language search's stored ``final`` section is checked against ``LANGUAGE_FINAL_SCHEMA`` (not the
image one): the optimiser defaults are ENAS' PTB recipe (plain SGD at lr 20, gradient norm clipped
at 0.25) with AWD-LSTM's weight decay 1.2e-6; ``bptt`` is the truncated-BPTT window
(pytorch/examples' 35); ``hidden_size`` and the four dropouts override the searched space's options
for the final child (empty: the search's own, or the budget planner's hidden size). Image knobs
(drop path, cutout, auxiliary head, label smoothing, channels, cells, layers) are not settings of a
language model: sent for one, they are refused by name.
"""

from __future__ import annotations

from searchcore.data.tasks import DEFAULT_SEQ_LEN
from searchcore.schema import Option, Schema
from searchcore.training.settings import FINAL_SCHEMA

MAX_BPTT = 1000
_DROP = "drop probability of the final child's {} (empty: the search's space option)"

LANGUAGE_FINAL_SCHEMA = Schema("language final training", (
    FINAL_SCHEMA["budget_seconds"],
    FINAL_SCHEMA["epochs"],
    Option("batch_size", "int", None, "parallel token streams per step (empty: planned from the budget)",
           1, 4096, nullable=True),
    FINAL_SCHEMA["plan"],
    FINAL_SCHEMA["init"],
    Option("lr", "float", 20.0, "initial SGD learning rate, no momentum, cosine to 0 (ENAS PTB: 20)",
           1e-5, 100.0),
    Option("weight_decay", "float", 1.2e-6, "SGD weight decay (AWD-LSTM: 1.2e-6)", 0.0, 0.1),
    Option("grad_clip", "float", 0.25, "gradient-norm clip (ENAS: 0.25; 0 = off)", 0.0, 1000.0),
    Option("bptt", "int", DEFAULT_SEQ_LEN, "tokens per truncated-BPTT window", 2, MAX_BPTT),
    Option("hidden_size", "int", None, "embedding and hidden width of the final child (empty: the "
           "search's, or planned from the budget)", 8, 2048, nullable=True),
    Option("dropout_words", "float", None, _DROP.format("whole embedding rows (words)"), 0.0, 0.95,
           nullable=True),
    Option("dropout_embedding", "float", None, _DROP.format("embedded input"), 0.0, 0.95, nullable=True),
    Option("dropout_hidden", "float", None, _DROP.format("recurrent state"), 0.0, 0.95, nullable=True),
    Option("dropout_output", "float", None, _DROP.format("cell output"), 0.0, 0.95, nullable=True),
))
# shown in the designer's advanced section for a language space
LANGUAGE_ADVANCED = ("batch_size", "lr", "grad_clip", "bptt", "hidden_size", "dropout_words",
                     "dropout_embedding", "dropout_hidden", "dropout_output")

__all__ = ["LANGUAGE_ADVANCED", "LANGUAGE_FINAL_SCHEMA", "MAX_BPTT"]
