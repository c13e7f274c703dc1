"""A search against its controls: the comparison page and the "Run the controls" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.pages.views_searches import owned_search
from webapp.searches.comparison import comparison, main_search
from webapp.searches.services import create_controls


@login_required
@require_GET
def search_compare(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    main = main_search(search)
    result = comparison(main)
    active = any(run["status"] in main.ACTIVE for run in result["runs"])
    return render(request, "searches/compare.html", {"search": main, "comparison": result, "active": active})


@login_required
@require_POST
def search_controls(request: HttpRequest, pk: int) -> HttpResponse:
    search = owned_search(request, pk)
    try:
        controls, created = create_controls(search)
    except ValidationError as exc:
        messages.error(request, "Cannot run the controls: " + " ".join(exc.messages))
        return redirect("pages:results", pk=search.pk)
    if created:
        messages.success(request, f"Queued {len(controls)} controls on the same dataset and total budget.")
    return redirect("pages:compare", pk=search.pk)
