"""Dataset pages: list, upload (XHR with progress, or a plain form post), health report, thumbnails."""

from __future__ import annotations

import logging
import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.bodylimit import too_large_message
from webapp.datasets.deletion import delete_dataset
from webapp.datasets.models import Dataset
from webapp.datasets.quota import quota_summary
from webapp.datasets.services import create_dataset
from webapp.datasets.uploads import upload_too_large
from webapp.pages.forms import DatasetUploadForm
from webapp.pages.reports import dataset_context
from webapp.quotas import QuotaExceeded

logger = logging.getLogger(__name__)


def owned_dataset(request: HttpRequest, pk: int) -> Dataset:
    return get_object_or_404(Dataset.objects.for_owner(request.user), pk=pk)


@login_required
@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = Dataset.objects.for_owner(request.user)
    context = {"datasets": datasets, "storage": quota_summary(request.user)}
    return render(request, "datasets/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_new(request: HttpRequest) -> HttpResponse:
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload_too_large(request):
        message = too_large_message(request.path)
        if wants_json:
            return JsonResponse({"error": message, "errors": {"file": [message]}}, status=413)
        form.is_valid()  # add_error needs a cleaned form
        form.add_error(None, message)
        return render(request, "datasets/new.html", {"form": form}, status=413)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = create_dataset(request.user, form.cleaned_data["name"], form.cleaned_data["file"])
        except QuotaExceeded as exc:  # the storage quota: 413 with its message, nothing kept
            if wants_json:
                body = {"error": exc.message_text, "errors": exc.message_dict}
                return JsonResponse(body, status=exc.status)
            _add_errors(form, exc)
            return render(request, "datasets/new.html", {"form": form}, status=exc.status)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            url = reverse("pages:dataset", args=[dataset.pk])
            return JsonResponse({"id": dataset.pk, "url": url}, status=201) if wants_json else redirect(url)
    if request.method == "POST" and wants_json:
        return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
    return render(request, "datasets/new.html", {"form": form})


def _add_errors(form: DatasetUploadForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error("file", exc.messages)


@login_required
@require_POST
def dataset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """The datasets page's Delete button: frees the dataset's storage, or says why it cannot."""
    dataset = owned_dataset(request, pk)
    try:
        delete_dataset(dataset)
    except ValidationError as exc:
        messages.error(request, f"Cannot delete “{dataset.name}”: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Deleted “{dataset.name}”.")
    return redirect("pages:datasets")


@login_required
@require_GET
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = owned_dataset(request, pk)
    return render(request, "datasets/detail.html", dataset_context(dataset))


@login_required
@require_GET
def dataset_status(request: HttpRequest, pk: int) -> JsonResponse:
    dataset = owned_dataset(request, pk)
    return JsonResponse({"id": dataset.pk, "status": dataset.status})


@login_required
@require_GET
def dataset_thumbnail(request: HttpRequest, pk: int, name: str) -> FileResponse:
    """A thumbnail listed by validation (``Dataset.thumbnail_path``: never a path outside the folder)."""
    path = owned_dataset(request, pk).thumbnail_path(name)
    if path is None:
        raise Http404("no such thumbnail")
    response = FileResponse(path.open("rb"), content_type=mimetypes.guess_type(path.name)[0] or "image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response

