"""The results page's "Train this architecture on another dataset" form (``webapp.searches.transfer``)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from searchcore.training.transfer import SIZES
from webapp.pages.views_searches import owned_search
from webapp.searches.services import create_transfer

GRAYSCALE = {"auto": None, "gray": True, "rgb": False}
BUDGET_UNITS = {"minutes": "m", "hours": "h"}  # else epochs


@login_required
@require_POST
def search_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the transfer and open its live page; a refused request goes back to the results page."""
    source = owned_search(request, pk)
    try:
        new = create_transfer(source, transfer_request(request.POST))
    except ValidationError as exc:
        problems = [m if field in ("__all__", "search") else f"{field.replace('_', ' ')}: {m}"
                    for field, ms in exc.message_dict.items() for m in ms]
        messages.error(request, "Cannot train it on another dataset: " + " ".join(problems))
        return redirect("pages:results", pk=source.pk)
    messages.success(request, f"Queued “{new.name}”: this architecture on {new.dataset.name}.")
    return redirect("pages:live", pk=new.pk)


def transfer_request(post: QueryDict) -> dict[str, Any]:
    """The form's fields as the API's request; text that is not a whole number goes on as text, for the
    validation to name."""
    sizes = {name: _number(post[name]) for name in SIZES if post.get(name, "").strip()}
    body: dict[str, Any] = {"dataset": _number(post.get("dataset", "")), "name": post.get("name", ""),
                            "final": sizes, "grayscale": GRAYSCALE.get(post.get("grayscale", "auto"))}
    if post.get("architecture", "").strip():  # a point of the Pareto front (``pages/pareto.py``)
        body["architecture"] = _json(post["architecture"])
    if post.get("image_size", "").strip():
        body["image_size"] = _number(post["image_size"])
    value, unit = post.get("budget_value", "").strip(), post.get("budget_unit", "minutes")
    if value:
        epochs = {"epochs": _number(value)}
        body["final_budget"] = f"{value}{BUDGET_UNITS[unit]}" if unit in BUDGET_UNITS else epochs
    return body


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # named by the validation ("must be an architecture JSON object")


def _number(text: str) -> Any:
    text = text.strip()
    return int(text) if text.isdigit() else text


__all__ = ["search_transfer", "transfer_request"]
