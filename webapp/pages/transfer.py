"""The results page's transfer card: the search a transfer came from, the transfers made from a search,
and what the "Train this architecture on another dataset" form offers (``webapp.searches.transfer``)."""

from __future__ import annotations

from typing import Any

from searchcore.spaces import space_class
from searchcore.training.transfer import SIZES
from webapp.datasets.models import Dataset
from webapp.searches.config import TASK_KIND
from webapp.searches.models import Search
from webapp.searches.transfer import transfer_problem, transfer_sizes

SIZE_LABELS = {"channels": "Channels", "cells_per_stage": "Cells per stage", "layers": "Layers"}


def transfer_context(search: Search) -> dict[str, Any]:
    """``transfer_source``/``transfer_settings`` (a transfer run), ``transfers`` (made from it), and the
    form's ``transfer_datasets``/``transfer_sizes``, or ``transfer_problem`` (why there is no form)."""
    problem = transfer_problem(search)
    return {
        "transfer_source": search.transfer_of,
        "transfer_settings": _settings(search) if (search.config or {}).get("transfer") else None,
        "transfers": list(search.transfers.select_related("dataset").order_by("pk")),
        "transfer_problem": problem,
        "transfer_datasets": [] if problem else _datasets(search),
        "transfer_sizes": [] if problem else [(name, SIZE_LABELS[name]) for name in transfer_sizes(search)],
    }


def _datasets(search: Search) -> list[Dataset]:
    """The owner's ready datasets of the kind the architecture takes (the source's own last: a larger
    network on the same data is a transfer too)."""
    kind = space_class((search.config or {}).get("space")).task_kind
    kinds = [k for k, task in TASK_KIND.items() if task == kind]
    rows = Dataset.objects.for_owner(search.owner).filter(status=Dataset.READY, kind__in=kinds)
    rows = rows.order_by("name", "pk")
    return sorted(rows, key=lambda d: d.pk == search.dataset_id)  # another dataset is the first choice


def _settings(search: Search) -> list[tuple[str, str]]:
    """What a transfer set: its sizes and input (what it left out is the space's default or planned)."""
    config = search.config or {}
    final = config.get("final") or {}
    rows = [(SIZE_LABELS[name], str(final[name])) for name in SIZES if final.get(name) is not None]
    if config.get("image_size") is not None:
        rows.append(("Image side", f"{config['image_size']} px"))
    if config.get("grayscale") is not None:
        rows.append(("Colour", "grayscale" if config["grayscale"] else "colour"))
    return rows


__all__ = ["SIZE_LABELS", "transfer_context"]
