"""The search designer page (``/searches/new``, routed in ``webapp.pages.urls``): a generated form."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from searchcore.compat import evaluator_problem
from searchcore.spaces import space_class
from webapp.datasets.models import Dataset
from webapp.designer.catalog import (
    controller_choices,
    evaluator_choices,
    space_catalog,
    space_entry,
)
from webapp.designer.design import design_context, initial_from_search, strategy_values_from_search
from webapp.designer.forms import DesignForm
from webapp.designer.options import parse_space_options
from webapp.designer.strategy import strategy_payload
from webapp.quotas import QuotaExceeded, retry_after_header
from webapp.searches.models import Search
from webapp.searches.services import create_search
from webapp.workers.services import device_choice

logger = logging.getLogger(__name__)

# create_search error keys -> the designer field that shows them
FIELD_FOR_KEY = {"budget": "budget_value", "final_budget": "final_value", "final": "final_value",
                 "__all__": None}
STRATEGY_KEYS = {"controller_options": "controller", "evaluator_options": "evaluator"}


@login_required
@require_http_methods(["GET", "POST"])
def search_new(request: HttpRequest) -> HttpResponse:
    datasets = list(Dataset.objects.for_owner(request.user).filter(status=Dataset.READY))
    initial, option_values, strategy_values = _initial(request, datasets)
    form = DesignForm(
        request.POST or None, initial=initial, datasets=[(str(d.pk), d.name) for d in datasets],
        spaces=[s["name"] for s in space_catalog()], controllers=controller_choices(),
        evaluators=evaluator_choices(),
    )
    option_errors: dict[str, str] = {}
    strategy_errors: dict[str, dict[str, str]] = {}
    refused: QuotaExceeded | None = None  # a per-user limit: 429 and the form's message
    if request.method == "POST" and form.is_valid():
        space = form.cleaned_data["space"]
        options, option_errors = parse_space_options(space, space_entry(space)["options"], request.POST)
        strategy, strategy_errors = strategy_payload(form.cleaned_data["controller"],
                                                     form.cleaned_data["evaluator"], request.POST)
        problem = evaluator_problem(space, form.cleaned_data["evaluator"])
        if problem:
            form.add_error("evaluator", problem)
        if not option_errors and not strategy_errors and form.is_valid():
            try:
                device = {"device_class": request.POST.get("device_class") or "auto"}
                search = create_search(request.user, {**_search_data(form, options), **strategy, **device})
            except QuotaExceeded as exc:
                refused = exc
                form.add_error(None, exc.message_text)
            except ValidationError as exc:
                option_errors, strategy_errors = _map_errors(form, exc)
            else:
                return redirect("pages:live", pk=search.pk)
    context = design_context(form, request.POST if request.method == "POST" else None, option_values,
                             option_errors, datasets, strategy_values=strategy_values,
                             strategy_errors=strategy_errors)
    context.update(device_choice(request.POST.get("device_class")))  # auto / cpu / gpu (webapp.workers)
    if refused is not None:
        response = render(request, "searches/new.html", context, status=refused.status)
        for header, value in retry_after_header(refused).items():
            response[header] = value
        return response
    status = 400 if request.method == "POST" else 200
    return render(request, "searches/new.html", context, status=status)


def _initial(request: HttpRequest,
             datasets: list[Dataset]) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    initial: dict[str, Any] = {"space": "enas-micro" if space_entry("enas-micro") else None,
                               "controller": "reinforce", "evaluator": "shared"}
    option_values: dict[str, Any] = {}
    strategy_values: dict[str, dict[str, Any]] = {}
    source = request.GET.get("from")
    if source and source.isdigit():
        search = Search.objects.for_owner(request.user).filter(pk=int(source)).first()
        if search is not None:
            initial, option_values = initial_from_search(search)
            strategy_values = strategy_values_from_search(search)
    if request.GET.get("dataset"):
        initial["dataset"] = request.GET["dataset"]
    elif len(datasets) == 1 and "dataset" not in initial:
        initial["dataset"] = str(datasets[0].pk)
    return initial, option_values, strategy_values


def _search_data(form: DesignForm, options: dict[str, Any]) -> dict[str, Any]:
    data = form.cleaned_data
    name = data["name"] or f"{data['space']} · {data['controller']}"
    payload: dict[str, Any] = {
        "name": name, "space": data["space"], "space_options": options, "controller": data["controller"],
        "evaluator": data["evaluator"], "budget": form.budget(),
        "dataset": int(data["dataset"]) if data.get("dataset") else None,
    }
    payload.update(form.input_settings())  # left out: the dataset's native side and channels
    payload.update(form.cost_settings())  # left out: the reward is the accuracy alone
    payload["final_budget"] = form.final_budget()
    payload["final"] = form.final_settings(space_class(data["space"]).task_kind)
    return payload


def _map_errors(form: DesignForm, exc: ValidationError) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Put each service error next to its field: ``(space option errors, controller/evaluator option
    errors by kind)``; the rest go on the form."""
    option_errors: dict[str, str] = {}
    strategy_errors: dict[str, dict[str, str]] = {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return option_errors, strategy_errors
    for key, messages in exc.message_dict.items():
        if key == "space_options":
            option_errors["__space__"] = " ".join(messages)
            continue
        if key in STRATEGY_KEYS:  # the whole message beside the strategy's fieldset
            strategy_errors[STRATEGY_KEYS[key]] = {"__all__": " ".join(messages)}
            continue
        field = FIELD_FOR_KEY.get(key, key)
        form.add_error(field if field in form.fields else None, messages)
    return option_errors, strategy_errors

