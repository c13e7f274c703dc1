"""The workers' heartbeat rows: written by each worker, read by the worker page, the API and the designer.

Chosen over Celery's ``inspect`` broadcast (which waits its whole timeout for replies on every page
view, and forgets a crashed worker silently): a row is one indexed read, and a worker that died without
a goodbye stays listed as **lost** once its last beat is older than ``WORKER_LOST_SECONDS``, until
``WORKER_FORGET_SECONDS`` have passed. What a worker runs now is read from the rows that already say so
(``Search.worker_name`` of a leased search, ``ChildRun.worker_name`` of a running child).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from webapp.celery_app import CPU, DEVICE_CLASSES, GPU, queue_class, search_queue
from webapp.searches.models import ChildRun, Search
from webapp.workers.models import WorkerBeat

AUTO = "auto"


def worker_class(queues: Iterable[str]) -> str:
    """A worker's device class from its queues: ``gpu`` if it takes any gpu queue, else ``cpu`` if it
    takes a cpu one, else ``""`` (a ``datasets`` worker)."""
    classes = {queue_class(q) for q in queues} - {None}
    return GPU if GPU in classes else (CPU if CPU in classes else "")


def beat(name: str, queues: Iterable[str], started_at: Any) -> None:
    """Record (or refresh) the worker ``name``: called from its main process on a timer."""
    queues = sorted(queues)
    WorkerBeat.objects.update_or_create(name=name[:200], defaults={
        "hostname": socket.gethostname()[:200], "pid": os.getpid(), "queues": queues,
        "device_class": worker_class(queues), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES", "")[:100],
        "started_at": started_at, "seen_at": timezone.now()})
    WorkerBeat.objects.filter(seen_at__lt=timezone.now() - timedelta(seconds=settings.WORKER_FORGET_SECONDS)
                              ).delete()


def forget(name: str) -> None:
    """A worker stopping cleanly leaves the list at once."""
    WorkerBeat.objects.filter(name=name[:200]).delete()


def _fresh_since() -> Any:
    return timezone.now() - timedelta(seconds=settings.WORKER_LOST_SECONDS)


def gpu_search_workers() -> list[str]:
    """Names of the workers taking gpu searches that beat within ``WORKER_LOST_SECONDS``."""
    rows = WorkerBeat.objects.filter(device_class=GPU, seen_at__gte=_fresh_since())
    return [row.name for row in rows if search_queue(GPU) in row.queues]


def gpu_unavailable_reason() -> str:
    """Why the gpu class cannot be chosen now ("" when it can)."""
    if gpu_search_workers():
        return ""
    return (f"No GPU worker has been seen in the last {settings.WORKER_LOST_SECONDS} s (a worker taking the "
            f"{search_queue(GPU)} queue); searches run on CPU workers.")


def resolve_device_class(requested: Any) -> str:
    """The class a new search gets: ``cpu``/``gpu`` as asked (``gpu`` needs a live GPU worker), or for
    ``auto``/absent ``DEFAULT_DEVICE_CLASS``, whose ``auto`` means gpu when a GPU worker is live, else
    cpu. Raises ``ValidationError({"device_class": [...]})`` for anything else."""
    value = AUTO if requested in (None, "") else requested
    if value not in (*DEVICE_CLASSES, AUTO):
        raise ValidationError({"device_class": [f"device_class must be one of cpu, gpu or auto, not "
                                                f"{str(value)[:40]!r}."]})
    if value == AUTO:
        value = settings.DEFAULT_DEVICE_CLASS
        if value == AUTO:
            return GPU if gpu_search_workers() else CPU
        return value
    if value == GPU:
        reason = gpu_unavailable_reason()
        if reason:
            raise ValidationError({"device_class": [f"gpu cannot be chosen now: {reason}"]})
    return value


def list_workers(viewer_id: int | None) -> list[dict[str, Any]]:
    """Every worker seen within ``WORKER_FORGET_SECONDS``: name, host, queues, class, GPUs, state
    (``connected``/``lost``), seconds since its last beat, and what it runs now (three queries). Work of
    another user than ``viewer_id`` is shown as such, without its id or name."""
    rows = list(WorkerBeat.objects.all())
    names = [row.name for row in rows]
    running: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    searches = Search.objects.filter(status__in=Search.LEASED, worker_name__in=names, lease_owner__gt="")
    for pk, name, owner, worker in searches.values_list("pk", "name", "owner_id", "worker_name"):
        mine = owner == viewer_id
        running[worker].append({"kind": "search", "search": pk if mine else None,
                                "name": name if mine else None})
    children = ChildRun.objects.filter(state=ChildRun.RUNNING, worker_name__in=names)
    for search_id, owner, step, index, worker in children.values_list("search_id", "search__owner_id", "step",
                                                                      "index", "worker_name"):
        mine = owner == viewer_id
        running[worker].append({"kind": "child", "search": search_id if mine else None,
                                "step": step, "index": index})
    now, fresh = timezone.now(), _fresh_since()
    return [{"name": row.name, "hostname": row.hostname, "pid": row.pid, "queues": row.queues,
             "device_class": row.device_class or None, "gpus": row.gpus or None,
             "state": "connected" if row.seen_at >= fresh else "lost",
             "seen_seconds_ago": round((now - row.seen_at).total_seconds(), 1),
             "started": row.started_at.isoformat(), "running": running[row.name]} for row in rows]


def device_choice(posted: str | None = None) -> dict[str, Any]:
    """The designer's device-class choice: auto, cpu, gpu (gpu disabled, with the reason, while no GPU
    worker is live); ``posted`` is the value sent back after an error."""
    reason = gpu_unavailable_reason()
    auto_means = settings.DEFAULT_DEVICE_CLASS if settings.DEFAULT_DEVICE_CLASS != AUTO else (
        CPU if reason else GPU)
    chosen = posted if posted in (*DEVICE_CLASSES, AUTO) else AUTO
    options = [{"value": AUTO, "label": f"Automatic (now: {auto_means})", "disabled": False},
               {"value": CPU, "label": "CPU", "disabled": False},
               {"value": GPU, "label": "GPU (CUDA)", "disabled": bool(reason)}]
    for option in options:
        option["checked"] = option["value"] == chosen and not option["disabled"]
    if not any(o["checked"] for o in options):
        options[0]["checked"] = True
    return {"device_classes": options, "gpu_unavailable": reason}
