"""Plain dicts for the JSON API (and for pages that embed the same data)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from webapp.datasets.models import Dataset
from webapp.searches.models import Search, TrainedModel
from webapp.searches.services import queue_position


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dataset_to_dict(dataset: Dataset, *, report: bool = False) -> dict[str, Any]:
    data = {
        "id": dataset.pk, "name": dataset.name, "kind": dataset.kind, "status": dataset.status,
        "size": dataset.size, "error": dataset.error, "num_classes": dataset.num_classes,
        "num_images": dataset.num_images, "created": _iso(dataset.created),
        "validated_at": _iso(dataset.validated_at),
    }
    if report:
        data["report"] = dataset.report
    return data


def search_to_dict(search: Search, *, detail: bool = False) -> dict[str, Any]:
    data = {
        "id": search.pk, "name": search.name, "status": search.status, "progress": search.progress,
        "phase": search.phase, "eta_seconds": search.eta_seconds, "message": search.message,
        "dataset": search.dataset_id, "space": search.config.get("space"),
        "controller": search.config.get("controller"), "evaluator": search.config.get("evaluator"),
        "best": search.best, "created": _iso(search.created), "started": _iso(search.started_at),
        "finished": _iso(search.finished_at), "last_seq": search.last_seq,
        "role": search.role or None, "control_of": search.control_of_id, "transfer_of": search.transfer_of_id,
        "device_class": search.device_class, "worker": search.worker_name or None,
        "device": search.device or None,
    }
    if detail:
        data.update(
            config=search.config, queue_position=queue_position(search), attempts=search.attempts,
            cancel_requested=search.cancel_requested, has_package=has_package(search),
            controls=controls_to_list(search.controls.order_by("pk")),
            transfers=transfers_to_list(search.transfers.order_by("pk")),
        )
    return data


def controls_to_list(controls: Iterable[Search]) -> list[dict[str, Any]]:
    """``[{id, role, name, status}]`` of a search's control runs (``webapp.searches.controls``)."""
    return [{"id": c.pk, "role": c.role, "name": c.name, "status": c.status} for c in controls]


def transfers_to_list(transfers: Iterable[Search]) -> list[dict[str, Any]]:
    """``[{id, name, status, dataset}]`` of the transfers made from a search (``searches.transfer``)."""
    return [{"id": t.pk, "name": t.name, "status": t.status, "dataset": t.dataset_id} for t in transfers]


def has_package(search: Search) -> bool:
    try:
        model = search.trained_model
    except TrainedModel.DoesNotExist:
        return False
    return bool(model.package) and model.package_path.is_file()
