"""Search services: create (validate, persist, enqueue after commit), controls, transfers, cancel, rerun,
queue position.

Views and the designer call these; they own the transactions. The worker picks a search up by
id from the ``searches`` queue and claims it with a lease (``worker/lease.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.celery_app import CPU
from webapp.outbox.services import enqueue_on_commit
from webapp.quotas import lock_owner
from webapp.searches.config import clean_search_data
from webapp.searches.controls import ROLES, control_problem, control_requests, controls_flag
from webapp.searches.events import append_event
from webapp.searches.fairness import queued_in_fair_order
from webapp.searches.limits import check_search_limits
from webapp.searches.models import Search
from webapp.searches.status import cancel_target
from webapp.searches.transfer import clean_transfer_data, transfer_best
from webapp.workers.services import resolve_device_class

logger = logging.getLogger(__name__)

RUN_TASK = "worker.tasks.run_search"


def create_search(owner: Any, data: dict[str, Any]) -> Search:
    """Validate ``data`` (raises ``ValidationError`` field -> messages), store, enqueue after commit.

    ``"controls": true`` also creates the search's controls (``create_controls``), queued after it;
    if they cannot be made, nothing is created. Over a per-user limit (``limits``): ``QuotaExceeded``,
    nothing created. ``device_class`` (cpu, gpu, auto or absent: ``webapp.workers.services``) picks the
    queues it runs from; its controls get the same class."""
    data, controls, flag_errors = controls_flag(data)
    requested = None
    if isinstance(data, dict):  # anything else is refused by clean_search_data
        data = dict(data)
        requested = data.pop("device_class", None)
    try:
        device_class = resolve_device_class(requested)
    except ValidationError as exc:
        device_class, flag_errors = CPU, {**flag_errors, **exc.message_dict}
    adding = 1 + (len(ROLES) if controls else 0)
    check_search_limits(owner, adding)
    try:
        dataset, name, config = clean_search_data(owner, data)
    except ValidationError as exc:
        raise ValidationError({**exc.message_dict, **flag_errors}) from None
    if flag_errors:
        raise ValidationError(flag_errors)
    with transaction.atomic():
        _hold_limits(owner, adding)
        search = Search.objects.create(owner=owner, dataset=dataset, name=name, config=config,
                                       device_class=device_class)
        enqueue_on_commit(RUN_TASK, search.pk)
        if controls:
            create_controls(search)
    logger.info("search %s queued by %s: %s", search.pk, owner, config["space"])
    return search


def create_controls(search: Search) -> tuple[list[Search], bool]:
    """``(controls, created now)``: the search's random-controller and ResNet-20 runs, made and queued
    once; later calls return the same rows (a unique constraint keeps a race to one set)."""
    existing = list(search.controls.order_by("pk"))
    if existing:
        return existing, False
    problem = control_problem(search)
    if problem:
        raise ValidationError({"controls": [problem]})
    check_search_limits(search.owner, len(ROLES))
    cleaned = [(role, *clean_search_data(search.owner, request))
               for role, request in control_requests(search)]
    try:
        with transaction.atomic():
            _hold_limits(search.owner, len(cleaned))  # inside create_search: its row is counted already
            rows = [Search.objects.create(owner=search.owner, dataset=dataset, name=name, config=config,
                                          control_of=search, role=role, device_class=search.device_class)
                    for role, dataset, name, config in cleaned]
            for row in rows:
                enqueue_on_commit(RUN_TASK, row.pk)
    except IntegrityError:  # another request made them first
        return list(search.controls.order_by("pk")), False
    logger.info("search %s: controls %s queued", search.pk, [row.pk for row in rows])
    return rows, True


def create_transfer(source: Search, data: Any) -> Search:
    """A queued transfer of ``source``'s architecture (``webapp.searches.transfer``); raises
    ``ValidationError`` (nothing stored) when the source or the request cannot make one."""
    check_search_limits(source.owner)
    dataset, name, config = clean_transfer_data(source, data)
    with transaction.atomic():
        _hold_limits(source.owner, 1)
        search = Search.objects.create(owner=source.owner, dataset=dataset, name=name, config=config,
                                       transfer_of=source,
                                       best=transfer_best(source, config["transfer"]["architecture"]))
        enqueue_on_commit(RUN_TASK, search.pk)
    logger.info("search %s: transfer %s queued on dataset %s", source.pk, search.pk, dataset.pk)
    return search


def cancel_search(search: Search) -> Search:
    """Cooperative cancel: a queued search ends at once, a running one at its next ``should_stop``."""
    now = timezone.now()
    with transaction.atomic():
        if Search.objects.filter(pk=search.pk, status=Search.QUEUED).update(
            status=cancel_target(Search.QUEUED), cancel_requested=True, finished_at=now,
            message="Cancelled before it started.", eta_seconds=None,
        ):
            append_event(search.pk, "finished", {"status": Search.CANCELLED,
                                                 "message": "Cancelled before it started.", "best": None})
        else:
            Search.objects.filter(pk=search.pk, status=Search.RUNNING).update(
                status=cancel_target(Search.RUNNING), cancel_requested=True, message="Cancelling..."
            )
    search.refresh_from_db()
    logger.info("search %s: cancel requested (now %s)", search.pk, search.status)
    return search


def rerun_search(search: Search) -> Search:
    """A new queued search with the same dataset and config (the old one is left as it was)."""
    check_search_limits(search.owner)
    with transaction.atomic():
        _hold_limits(search.owner, 1)
        new = Search.objects.create(
            owner=search.owner, dataset=search.dataset, name=_rerun_name(search.name), config=search.config,
            transfer_of=search.transfer_of, device_class=search.device_class,
        )
        enqueue_on_commit(RUN_TASK, new.pk)
    logger.info("search %s re-run as %s", search.pk, new.pk)
    return new


def _hold_limits(owner: Any, adding: int) -> None:
    """The authoritative check, inside the transaction that writes the rows (see ``webapp.quotas``)."""
    lock_owner(owner)
    check_search_limits(owner, adding)


def _rerun_name(name: str) -> str:
    base = name.removesuffix(" (re-run)")
    return f"{base} (re-run)"[:200]


def queue_position(search: Search) -> int | None:
    """1 for the next search to run, in the fair order the worker claims in (``fairness``: round-robin
    over users, least recently served first) of its device class's workers; ``None`` unless queued."""
    if search.status != Search.QUEUED:
        return None
    return queue_positions([search]).get(search.pk)


def queue_positions(searches: Iterable[Search]) -> dict[int, int]:
    """``queue_position`` for many searches in one query (the list page): pk -> position, queued only."""
    queued = [s for s in searches if s.status == Search.QUEUED]
    positions: dict[int, int] = {}
    for device_class in sorted({s.device_class for s in queued}):  # each class has its own workers
        wanted = {s.pk for s in queued if s.device_class == device_class}
        order = queued_in_fair_order(device_class)
        positions.update({pk: i + 1 for i, pk in enumerate(order) if pk in wanted})
    return positions
