"""The user-settable part of ``FinalConfig``, declared once for the web app and the designer.

A search's stored configuration carries these under ``final``; the worker passes them to
``FinalConfig`` next to what it supplies itself (architecture, data, device, image pipeline).
Defaults are ``FinalConfig``'s own, so a search that sets nothing trains as the CLI does.

``FINAL_SCHEMA`` is the image kind's. Each task kind's trainer declares its own schema
(``Trainer.final_schema``; language: ``training.language_settings``), so ``final_errors(values,
kind)`` checks a search's ``final`` section against the knobs of the kind it trains: a setting of
another kind is refused by name, never silently replaced.
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


def final_schema(kind: str = "image") -> Schema:
    """The final-training settings of task kind ``kind``, as its registered trainer declares them."""
    from searchcore.training.trainers import trainer_for

    return trainer_for(kind).final_schema


def final_errors(values: object, kind: str = "image") -> tuple[dict, dict[str, list[str]]]:
    """Canonical final settings of a ``kind`` run (defaults filled; no budget: DEFAULT_FINAL_SECONDS)
    and option -> messages."""
    schema = final_schema(kind)
    errors = schema.errors(values)
    if errors:
        return {}, _name_other_kinds(errors, schema, kind)
    assert isinstance(values, dict)
    settings = schema.parse(values)
    if settings["budget_seconds"] is None and settings["epochs"] is None:
        settings["budget_seconds"] = DEFAULT_FINAL_SECONDS
    return settings, {}


def _name_other_kinds(errors: dict[str, list[str]], schema: Schema, kind: str) -> dict[str, list[str]]:
    """An unknown option that is another kind's setting says so (an image knob sent for a language
    model), with the settings this kind takes."""
    from searchcore.training.trainers import trainer_for, trainer_kinds

    others = {name: other for other in trainer_kinds() if other != kind
              for name in trainer_for(other).final_schema.names()}
    out = dict(errors)
    for name in errors:
        if name in others and name not in schema.names():
            out[name] = [f"is a setting of {others[name]} models; {_a(kind)} model's final training takes "
                         f"{', '.join(schema.names())}"]
    return out


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


__all__ = ["ADVANCED", "DEFAULT_FINAL_SECONDS", "FINAL_SCHEMA", "INITS", "final_errors", "final_schema"]
