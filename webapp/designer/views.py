"""Designer JSON endpoints: the space catalogue, the live preview and the time estimate."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from searchcore.compat import combination_errors, needs_dataset
from searchcore.config import SearchConfig
from searchcore.data.tasks import DEFAULT_SEQ_LEN
from searchcore.schema import OptionsError
from searchcore.spaces import TaskSpec, space_class
from searchcore.spaces.base import IMAGE, LANGUAGE
from searchcore.validation import MAX_SEARCH_SECONDS
from webapp.datasets.inputs import native_summary
from webapp.datasets.models import Dataset
from webapp.designer.catalog import space_catalog, space_entry
from webapp.designer.data import split_sizes, train_size
from webapp.designer.estimate import estimate_epoch
from webapp.designer.plan import DEFAULT_TRAIN, designer_plan
from webapp.designer.preview import space_preview
from webapp.jsonbody import JsonBodyError, parse_json_body

logger = logging.getLogger(__name__)

DEFAULT_EVALUATOR = SearchConfig.evaluator  # the engine's default: what a search without one uses


@login_required
@require_GET
def spaces(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"spaces": list(space_catalog())})


def _request_options(request: HttpRequest) -> tuple[dict[str, Any], str, dict[str, Any], JsonResponse | None]:
    try:
        body = parse_json_body(request.body, empty={})
    except JsonBodyError as exc:
        return {}, "", {}, JsonResponse({"errors": {"__all__": str(exc)}}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("options") or {}, dict):
        return {}, "", {}, JsonResponse({"errors": {"__all__": "send a JSON object with space and options"}},
                                        status=400)
    entry = space_entry(str(body.get("space", "")))
    if entry is None:
        return body, "", {}, JsonResponse({"errors": {"space": "unknown search space"}}, status=400)
    try:
        options = space_class(entry["name"]).schema.parse(body.get("options") or {}, fill_defaults=False)
    except OptionsError as exc:
        return body, entry["name"], {}, _field_errors(exc.errors)
    return body, entry["name"], options, None


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """``{space, options, seed?}`` -> ``{size, size_text, cells, cell_svgs, architecture}``."""
    body, space, options, problem = _request_options(request)
    if problem:
        return problem
    try:
        result = space_preview(space, options, seed=int(body.get("seed") or 0))
    except ValueError as exc:
        return JsonResponse({"errors": {"__all__": str(exc)}}, status=400)
    return JsonResponse(result)


@login_required
@require_POST
async def estimate(request: HttpRequest) -> JsonResponse:
    """``{space, options, dataset?, device, batch_size?}`` -> seconds per epoch, measured on this CPU.

    Async, and the measurement runs outside the thread that serves Django's sync views, so a
    first-time measurement (a second or more for big spaces) never stalls other pages.
    """
    body, space, options, evaluator, problem = _measurable_request(request)
    if problem:
        return problem
    if not needs_dataset(evaluator):
        return JsonResponse({"seconds_per_epoch": 0, "text": "instant", "measured": True,
                             "basis": "table lookup: no training"})
    dataset = await sync_to_async(_dataset)(request, body.get("dataset"))
    train = train_size(dataset) if dataset else DEFAULT_TRAIN
    try:
        batch = int(body.get("batch_size") or 64)
        device = "gpu" if body.get("device") == "gpu" else "cpu"
        result = await sync_to_async(estimate_epoch, thread_sensitive=False)(
            space, options, train_size=train, batch_size=batch, device=device, task=_task(space, dataset),
            evaluator=evaluator)
    except (ValueError, TypeError, RuntimeError) as exc:
        logger.warning("estimate failed for %s %s: %s", space, options, exc)
        return JsonResponse({"errors": {"__all__": f"could not measure this space: {exc}"}}, status=400)
    return JsonResponse({**result.to_dict(), "train_size": train,
                         "assumed_train_size": dataset is None})


@login_required
@require_POST
async def plan(request: HttpRequest) -> JsonResponse:
    """``{space, options, dataset?, evaluator?, search_seconds?, final_seconds?}`` -> what the budgets
    buy (``webapp.designer.plan``), measured on this CPU like the estimate (and off its thread)."""
    body, space, options, evaluator, problem = _measurable_request(request)
    if problem:
        return problem
    seconds = {k: _positive(body.get(k)) for k in ("search_seconds", "final_seconds")}
    dataset = await sync_to_async(_dataset)(request, body.get("dataset"))
    try:
        result = await sync_to_async(designer_plan, thread_sensitive=False)(
            space, options, _task(space, dataset) or TaskSpec.image(3, 32, 10), evaluator=evaluator,
            sizes=split_sizes(dataset) if dataset else None, **seconds)
    except (ValueError, TypeError, RuntimeError) as exc:
        logger.warning("plan failed for %s %s: %s", space, options, exc)
        return JsonResponse({"errors": {"__all__": f"could not plan this space: {exc}"}}, status=400)
    return JsonResponse(result)


def _positive(value: Any) -> float | None:
    """A positive number of seconds (at most the search's cap), else ``None`` (not planned)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 < value <= MAX_SEARCH_SECONDS else None


def _measurable_request(request: HttpRequest) -> tuple[dict[str, Any], str, dict[str, Any], str,
                                                       JsonResponse | None]:
    """``_request_options`` plus the evaluator, refused (400) when it cannot score the space."""
    body, space, options, problem = _request_options(request)
    evaluator = str(body.get("evaluator") or DEFAULT_EVALUATOR) if isinstance(body, dict) else ""
    if problem is None:
        combination = combination_errors(space, evaluator)
        problem = _field_errors(combination) if combination else None
    return body, space, options, evaluator, problem


def _field_errors(errors: dict[str, list[str]]) -> JsonResponse:
    """400 with one message per field, as the designer's JavaScript shows them."""
    return JsonResponse({"errors": {field: " ".join(messages) for field, messages in errors.items()}},
                        status=400)


def _task(space: str, dataset: Dataset | None) -> TaskSpec | None:
    """An image task with the dataset's class count and default (native) input; a language task with
    a text dataset's vocabulary; ``None`` (the kind's default) otherwise."""
    kind = space_class(space).task_kind
    if kind == LANGUAGE:
        vocab = int(((dataset.report or {}).get("vocab_size") or 0) if dataset else 0)
        return TaskSpec.language(vocab, DEFAULT_SEQ_LEN) if vocab >= 2 else None
    if kind != IMAGE:
        return None
    native = native_summary(dataset) if dataset else None
    size, gray = (native["default_size"], native["default_grayscale"]) if native else (32, False)
    return TaskSpec(in_channels=1 if gray else 3, image_size=size,
                    num_classes=max(2, (dataset.num_classes or 10) if dataset else 10))


def _dataset(request: HttpRequest, pk: Any) -> Dataset | None:
    if not str(pk or "").isdigit():
        return None
    return Dataset.objects.for_owner(request.user).filter(pk=int(pk)).first()

