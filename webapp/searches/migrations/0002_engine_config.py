"""Stored search configs become searchcore's own config dict (``budget``/``final_budget`` -> engine fields).

Old rows: ``{"budget": {"seconds", "max_archs", "max_epochs"}, "final_budget": {"seconds", "epochs"},
...}``; the final training used the search's ``batch_size``. New rows: ``budget_seconds``,
``max_archs``, ``max_epochs`` at the top and a ``final`` section; an old row keeps training with the
batch size it was created with (``final.batch_size`` = its search ``batch_size`` when it had one).
The frozen copies of the defaults below are deliberate: a migration must not follow later code.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FINAL_DEFAULTS = {"budget_seconds": None, "epochs": None, "batch_size": 64, "lr": 0.05, "weight_decay": 3e-4,
                  "drop_path": 0.1, "cutout": 0, "aux_head": False, "aux_weight": 0.4, "label_smoothing": 0.0,
                  "grad_clip": 5.0, "channels": None, "cells_per_stage": None, "layers": None}
SEARCH_DEFAULTS = {"controller": "reinforce", "evaluator": "shared", "space_options": {},
                   "controller_options": {}, "evaluator_options": {}, "seed": 0, "image_size": 32,
                   "grayscale": False, "batch_size": 160, "controller_steps_per_epoch": 30, "derive_samples": 16}


def convert(old: dict[str, Any]) -> dict[str, Any]:
    """One old-shaped config in the new shape (a new-shaped one is returned unchanged)."""
    if "budget" not in old and "final_budget" not in old:
        return old
    new = {k: v for k, v in old.items() if k not in ("budget", "final_budget")}
    budget = old.get("budget") or {}
    new.update({"budget_seconds": budget.get("seconds"), "max_archs": budget.get("max_archs"),
                "max_epochs": budget.get("max_epochs")})
    for key, value in SEARCH_DEFAULTS.items():
        new.setdefault(key, value)
    final_budget = old.get("final_budget") or {}
    final = {**FINAL_DEFAULTS, "budget_seconds": final_budget.get("seconds"), "epochs": final_budget.get("epochs")}
    if final["budget_seconds"] is None and final["epochs"] is None:
        final["budget_seconds"] = 120.0
    if "batch_size" in old:  # what its final training used before the two were separated
        final["batch_size"] = old["batch_size"]
    new["final"] = final
    return new


def forwards(apps: Any, schema_editor: Any) -> None:
    Search = apps.get_model("searches", "Search")
    for search in Search.objects.only("pk", "config").iterator():
        config = convert(search.config or {})
        if config != search.config:
            Search.objects.filter(pk=search.pk).update(config=config)


class Migration(migrations.Migration):
    dependencies = [("searches", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
