"""The worker page (``/workers/``) and ``GET /api/workers/``: thin views over ``services.list_workers``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webapp.api.auth import api_view
from webapp.workers.services import gpu_unavailable_reason, list_workers


@api_view("GET")
def api_workers(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"workers": list_workers(request.user.pk),
                         "lost_after_seconds": settings.WORKER_LOST_SECONDS,
                         "gpu_unavailable": gpu_unavailable_reason() or None})


@login_required
@require_GET
def worker_page(request: HttpRequest) -> HttpResponse:
    return render(request, "workers/list.html", {"workers": list_workers(request.user.pk),
                                                 "lost_after": settings.WORKER_LOST_SECONDS,
                                                 "gpu_unavailable": gpu_unavailable_reason()})
