"""The user-settable part of ``FinalConfig``, declared once for the web app and the designer.

A search's stored configuration carries these under ``final``; the worker passes them to
``FinalConfig`` next to what it supplies itself (architecture, data, device, image pipeline).
Defaults are ``FinalConfig``'s own, so a search that sets nothing trains as the CLI does.
"""

from __future__ import annotations

from searchcore.schema import Option, Schema

MAX_FINAL_SECONDS = 12 * 3600
MAX_FINAL_EPOCHS = 10_000
INITS = ("auto", "scratch", "supernet")  # first weights of the final child (training.inherit)
DEFAULT_FINAL_SECONDS = 120.0  # the web app's default final budget ("2m") when none is given

FINAL_SCHEMA = Schema("final training", (
    Option("budget_seconds", "float", None, "wall-clock budget of final training (seconds)",
           1, MAX_FINAL_SECONDS, nullable=True),
    Option("epochs", "int", None, "number of epochs (with a time budget: whichever ends first)",
           1, MAX_FINAL_EPOCHS, nullable=True),
    Option("batch_size", "int", None, "images per training step (empty: planned from the budget)", 1, 4096,
           nullable=True),
    Option("plan", "bool", True, "choose the child's size and batch from step costs measured at the start"),
    Option("init", "choice", "auto", "first weights: the search's supernet (fine-tune), scratch, or auto "
           "(the measured default: see training.inherit.DEFAULT_INIT)", choices=INITS),
    Option("lr", "float", 0.05, "initial SGD learning rate (cosine to 0)", 1e-5, 10.0),
    Option("weight_decay", "float", 3e-4, "SGD weight decay", 0.0, 0.1),
    Option("drop_path", "float", 0.1, "maximum ScheduledDropPath probability", 0.0, 0.9),
    Option("cutout", "int", 0, "side of the cutout square in pixels (0 = off)", 0, 512),
    Option("aux_head", "bool", False, "train with an auxiliary head (loss weight aux_weight)"),
    Option("aux_weight", "float", 0.4, "weight of the auxiliary head's loss", 0.0, 10.0),
    Option("label_smoothing", "float", 0.0, "label smoothing of the loss", 0.0, 0.5),
    Option("grad_clip", "float", 5.0, "gradient-norm clip", 0.0, 1000.0),
    Option("channels", "int", None, "channels of the child network (empty: the space's default)",
           1, 1024, nullable=True),
    Option("cells_per_stage", "int", None, "cells per stage (empty: the space's default)", 1, 20,
           nullable=True),
    Option("layers", "int", None, "layers (empty: the space's default)", 1, 100, nullable=True),
))
ADVANCED = ("batch_size", "lr", "drop_path", "cutout", "aux_head")  # shown in the designer


def final_errors(values: object) -> tuple[dict, dict[str, list[str]]]:
    """Canonical final settings (defaults filled; no budget: DEFAULT_FINAL_SECONDS) and option -> messages."""
    errors = FINAL_SCHEMA.errors(values)
    if errors:
        return {}, errors
    assert isinstance(values, dict)
    settings = FINAL_SCHEMA.parse(values)
    if settings["budget_seconds"] is None and settings["epochs"] is None:
        settings["budget_seconds"] = DEFAULT_FINAL_SECONDS
    return settings, {}


__all__ = ["ADVANCED", "DEFAULT_FINAL_SECONDS", "FINAL_SCHEMA", "INITS", "final_errors"]
