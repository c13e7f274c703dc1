"""JSON API views: thin — authenticate (``api_view``), scope to the owner, call a service."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from webapp.api.auth import BadRequest, api_view, read_json
from webapp.api.serializers import (
    controls_to_list,
    dataset_to_dict,
    has_package,
    search_to_dict,
    transfers_to_list,
)
from webapp.api.unavailable import database_unavailable_is_503
from webapp.bodylimit import too_large_message
from webapp.datasets.deletion import delete_dataset
from webapp.datasets.models import Dataset
from webapp.datasets.services import VALIDATE_TASK, create_dataset
from webapp.datasets.uploads import upload_too_large
from webapp.designer.catalog import catalogue
from webapp.idempotency.services import create_once, fingerprint, key_from
from webapp.outbox.services import is_pending
from webapp.searches import services
from webapp.searches.comparison import comparison
from webapp.searches.events import events_after
from webapp.searches.models import Search

LIST_LIMIT = 500
EVENTS_LIMIT = 5000


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        return int(request.GET.get(name, default))
    except ValueError as exc:
        raise BadRequest(f"{name} must be a whole number.") from exc


@api_view("GET", "POST")
@database_unavailable_is_503
def datasets(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload_too_large(request):
            message = too_large_message(request.path)
            return JsonResponse({"error": message, "errors": {"file": [message]}}, status=413)
        name, kind = request.POST.get("name", ""), request.POST.get("kind") or None
        asked = fingerprint([name, kind, getattr(upload, "name", None), getattr(upload, "size", None)])
        pk, replayed = create_once(request.user, "datasets", key_from(request.headers), asked,
                                   lambda: create_dataset(request.user, name, upload, kind=kind))
        return _created(Dataset.objects.get(pk=pk), VALIDATE_TASK, replayed)
    rows = Dataset.objects.for_owner(request.user)[:LIST_LIMIT]
    return JsonResponse({"datasets": [dataset_to_dict(d) for d in rows]})


@api_view("GET", "DELETE")
def dataset_detail(request: HttpRequest, pk: int) -> JsonResponse:
    """GET: the dataset and its report; DELETE: remove it (frees its storage quota; 400 while it is
    validating or a search uses it)."""
    dataset = get_object_or_404(Dataset.objects.for_owner(request.user), pk=pk)
    if request.method == "DELETE":
        delete_dataset(dataset)
        return JsonResponse({"id": pk, "deleted": True})
    return JsonResponse(dataset_to_dict(dataset, report=True))


@api_view("GET")
def dataset_thumbnail(request: HttpRequest, pk: int, name: str) -> FileResponse:
    """One preview PNG listed in the report's ``thumbnails`` (``{class: [name, ...]}``)."""
    dataset = get_object_or_404(Dataset.objects.for_owner(request.user), pk=pk)
    path = dataset.thumbnail_path(name)
    if path is None:
        raise Http404("no such thumbnail")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@api_view("GET", "POST")
@database_unavailable_is_503
def searches(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        data = read_json(request)
        pk, replayed = create_once(request.user, "searches", key_from(request.headers), fingerprint(data),
                                   lambda: services.create_search(request.user, data))
        search = Search.objects.get(pk=pk)
        controls = list(search.controls.order_by("pk"))  # asked for with "controls": true
        extra = {"controls": controls_to_list(controls)} if controls else {}
        return _created(search, services.RUN_TASK, replayed, extra)
    rows = Search.objects.for_owner(request.user)[:LIST_LIMIT]
    return JsonResponse({"searches": [search_to_dict(s) for s in rows]})


@api_view("GET")
def search_detail(request: HttpRequest, pk: int) -> JsonResponse:
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    return JsonResponse(search_to_dict(search, detail=True))


@api_view("GET")
def search_events(request: HttpRequest, pk: int) -> JsonResponse:
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    after = max(0, _int_param(request, "after", 0))
    limit = min(max(1, _int_param(request, "limit", EVENTS_LIMIT)), EVENTS_LIMIT)
    events = events_after(search.pk, after, limit)
    return JsonResponse({"events": events, "last_seq": search.last_seq, "status": search.status})


@api_view("POST")
def search_cancel(request: HttpRequest, pk: int) -> JsonResponse:
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    search = services.cancel_search(search)
    return JsonResponse({"id": search.pk, "status": search.status})


@api_view("POST")
def search_rerun(request: HttpRequest, pk: int) -> JsonResponse:
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    new = services.rerun_search(search)
    return JsonResponse({"id": new.pk, "status": new.status}, status=201)


@api_view("POST")
def search_controls(request: HttpRequest, pk: int) -> JsonResponse:
    """Run the search's controls (random controller, ResNet-20) once: 201; later calls 200, the same runs."""
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    controls, created = services.create_controls(search)
    body = {"id": search.pk, "controls": controls_to_list(controls)}
    return JsonResponse(body, status=201 if created else 200)


@api_view("GET", "POST")
def search_transfers(request: HttpRequest, pk: int) -> JsonResponse:
    """POST: train the search's architecture on another dataset, at other sizes (201, the new run);
    GET: the transfers made from it."""
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    if request.method == "POST":
        new = services.create_transfer(search, read_json(request))
        return JsonResponse({"id": new.pk, "status": new.status, "transfer_of": search.pk}, status=201)
    return JsonResponse({"id": search.pk, "transfers": transfers_to_list(search.transfers.order_by("pk"))})


@api_view("GET")
def search_comparison(request: HttpRequest, pk: int) -> JsonResponse:
    """The search against its controls (``webapp.searches.comparison``); a control's id gives its search's."""
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    return JsonResponse(comparison(search))


@api_view("GET")
def search_package(request: HttpRequest, pk: int) -> FileResponse:
    search = get_object_or_404(Search.objects.for_owner(request.user), pk=pk)
    if not has_package(search):
        raise Http404("no package yet")
    path = search.trained_model.package_path
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"nas-studio-search-{search.pk}.zip",
                        content_type="application/zip")


@api_view("GET")
def spaces(request: HttpRequest) -> JsonResponse:
    """The designer's catalogue; ``controllers``/``evaluators`` stay name lists, their help beside them."""
    entries = catalogue()
    return JsonResponse({
        "spaces": entries["spaces"],
        "controllers": [c["name"] for c in entries["controllers"]],
        "evaluators": [e["name"] for e in entries["evaluators"]],
        "help": {"controllers": {c["name"]: c["help"] for c in entries["controllers"]},
                 "evaluators": {e["name"]: e["help"] for e in entries["evaluators"]}},
        "compatibility": entries["compatibility"],
    })


def _created(obj: Dataset | Search, task: str, replayed: bool = False,
             extra: dict[str, Any] | None = None) -> JsonResponse:
    """201 with the new dataset's or search's id and status (the client polls the detail for more);
    200 and ``Idempotent-Replayed`` for a repeated ``Idempotency-Key``. While the broker cannot take
    the task, ``"queue": "pending"`` says it is saved and starts by itself once the queue is back."""
    body: dict[str, Any] = {"id": obj.pk, "status": obj.status, **(extra or {})}
    if is_pending(task, obj.pk):
        body["queue"] = "pending"
        body["message"] = ("Saved. The task queue is unavailable right now; this will start by itself "
                           "when the queue is back (no need to send it again).")
    response = JsonResponse(body, status=200 if replayed else 201)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response

