"""Search pages: list (auto-refreshing), live view, cell SVGs, cancel, results and re-run; controls card."""

from __future__ import annotations

import logging
import math
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.pages.graphs import NoGraph, cell_graph, render_cached
from webapp.pages.results import results_context, task_kind
from webapp.pages.transfer import transfer_context
from webapp.searches.comparison import comparison
from webapp.searches.controls import control_problem
from webapp.searches.models import Search
from webapp.searches.services import cancel_search, queue_position, queue_positions, rerun_search

logger = logging.getLogger(__name__)


def controls_context(search: Search) -> dict[str, Any]:
    """The controls card of the live and results pages: the comparison, or why there can be none."""
    return {"comparison": comparison(search), "controls_problem": control_problem(search)}


def owned_search(request: HttpRequest, pk: int) -> Search:
    return get_object_or_404(Search.objects.for_owner(request.user).select_related("dataset"), pk=pk)


@login_required
@require_GET
def search_list(request: HttpRequest) -> HttpResponse:
    searches = list(Search.objects.for_owner(request.user).select_related("dataset")[:200])
    positions = queue_positions(searches)  # one query, not one per queued search
    for search in searches:
        search.queue_pos = positions.get(search.pk)
    template = "searches/_rows.html" if request.GET.get("partial") else "searches/list.html"
    any_active = any(s.is_active for s in searches)
    return render(request, template, {"searches": searches, "any_active": any_active})


@login_required
@require_GET
def search_live(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    position = queue_position(search) if search.status == Search.QUEUED else None
    return render(request, "searches/live.html", {"search": search, "queue_pos": position,
                                                  "task_kind": task_kind(search), **controls_context(search)})


@login_required
@require_GET
async def search_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """One cell drawn as SVG; async so ``dot`` runs off the thread that serves the sync views."""
    try:
        seq = int(request.GET["seq"]) if request.GET.get("seq") else None
        cell = int(request.GET["cell"]) if request.GET.get("cell") else None
        seen_time = _finite(request.GET["t"]) if request.GET.get("t") else None
        key, graph = await sync_to_async(_owned_cell_graph)(request, pk, request.GET.get("which", "best"),
                                                            seq, cell, seen_time)
    except (NoGraph, ValueError) as exc:  # StaleEvent too: that drawing is gone, the page starts over
        raise Http404(str(exc)) from exc
    svg = await sync_to_async(render_cached, thread_sensitive=False)(key, graph)
    response = HttpResponse(svg, content_type="image/svg+xml")
    # Only (seq, time) names a fixed architecture: a resumed search reuses seqs, and "latest" moves.
    immutable = seq is not None and seen_time is not None
    response["Cache-Control"] = "private, max-age=86400" if immutable else "private, no-cache"
    return response


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"bad time {text!r}")
    return value


def _owned_cell_graph(request: HttpRequest, pk: int, which: str, seq: int | None,
                      cell: int | None, seen_time: float | None) -> tuple[str, dict]:
    key, graph, _ = cell_graph(owned_search(request, pk), which, seq, cell, seen_time)
    return key, graph


@login_required
@require_POST
def search_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    try:
        cancel_search(search)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.info(request, "Cancelling — the worker stops at the next minibatch.")
    return redirect("pages:live", pk=search.pk)


@login_required
@require_GET
def search_results(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    return render(request, "searches/results.html", {**results_context(search), **controls_context(search),
                                                     **transfer_context(search)})


@login_required
@require_POST
def search_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    try:
        new = rerun_search(search)
    except ValidationError as exc:
        messages.error(request, "Cannot run again: " + " ".join(exc.messages))
        return redirect("pages:results", pk=search.pk)
    messages.success(request, f"Started “{new.name}” with the same settings.")
    return redirect("pages:live", pk=new.pk)
