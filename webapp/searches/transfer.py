"""Transfers: a finished search's architecture trained on another of the user's datasets, at another size.

NASNet's main result (``searchcore.training.transfer``): cells found on a small dataset, stacked
deeper and wider, trained on a larger one. A transfer is a new run (``Search.transfer_of`` = the
source) whose only work is final training. Its stored config is the source's space and space
options, no search budget, a ``final`` section (sizes in ``channels``/``cells_per_stage``/
``layers``, ``init`` always ``scratch``: the source's supernet learned another dataset) and
``transfer = {"search": <source id>, "architecture": <its architecture JSON>}``, so the worker
(and a re-run) needs nothing from the source. Everything is checked before anything is stored.

The request (``POST /api/searches/<id>/transfers``): ``dataset`` (required), ``name``,
``final_budget`` (a duration, or ``{seconds, epochs}``), ``final`` (final-training settings,
sizes included), ``image_size``, ``grayscale``, ``seed`` (the source's by default), and
``architecture``: by default the search's derived one; else any architecture the search sampled (a
point of its accuracy/latency Pareto front, issue 7 item 6), trained on its own dataset or another.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from searchcore.data.native import native_input, resolve_input
from searchcore.spaces import TaskSpec, create_space, space_class
from searchcore.spaces.base import IMAGE
from searchcore.training.settings import final_errors
from searchcore.training.transfer import SIZES, check_fits, size_problem, sizes_taken
from searchcore.validation import SEARCH_SCHEMA
from webapp.datasets.models import Dataset
from webapp.searches.config import TASK_KIND, Errors, _clean_dataset, _final_section
from webapp.searches.models import Search, TrainedModel
from webapp.searches.sampled import is_sampled

FIELDS = ("dataset", "name", "final_budget", "final", "image_size", "grayscale", "seed", "architecture")
INPUT_FIELDS = ("image_size", "grayscale", "seed")
BEST_KEYS = ("architecture", "graph", "degenerate")  # of the source's best; the reward was its search's


def source_architecture(search: Search) -> dict[str, Any] | None:
    """The architecture JSON (with ``"space"``) a transfer of ``search`` trains, or ``None``."""
    arch = (search.best or {}).get("architecture") if isinstance(search.best, dict) else None
    if not isinstance(arch, dict):
        return None
    return {"space": (search.config or {}).get("space"), **arch}


def transfer_problem(search: Search) -> str | None:
    """Why ``search``'s architecture cannot be transferred, in words; ``None`` when it can.

    A run that failed only because its final model was at chance (the verdict of issue 7: too small
    a final budget, or too little data) found its architecture all the same, and training it again
    (larger, longer, on other data) is what the failure message suggests: it can be transferred."""
    if search.status != Search.SUCCEEDED and not failed_only_at_chance(search):
        if search.is_active:
            return "The search has not finished yet; transfer its architecture once it has."
        return f"Only a finished search's architecture can be transferred; this one {search.status}."
    arch = source_architecture(search)
    if arch is None:
        return "This search found no architecture."
    try:  # an architecture stored by an older version of its space may no longer parse
        create_space(arch["space"], **((search.config or {}).get("space_options") or {})).arch_from_json(arch)
    except (ValueError, TypeError, KeyError) as exc:  # KeyError: UnknownNameError, a space no longer known
        return f"This search's architecture cannot be rebuilt: {exc}"
    return None


def failed_only_at_chance(search: Search) -> bool:
    """Whether ``search`` failed because its (trained and packaged) final model was at chance level."""
    if search.status != Search.FAILED:
        return False
    metrics = TrainedModel.objects.filter(search=search).values_list("metrics", flat=True).first() or {}
    verdict = metrics.get("verdict") if isinstance(metrics, dict) else None
    return isinstance(verdict, dict) and verdict.get("above_chance") is False


def transfer_sizes(search: Search) -> tuple[str, ...]:
    """The sizes (of ``SIZES``) a transfer of ``search`` may set: what its space's child takes."""
    arch = source_architecture(search)
    return () if arch is None else sizes_taken(arch, (search.config or {}).get("space_options") or {})


def clean_transfer_data(source: Search, data: Any) -> tuple[Dataset, str, dict[str, Any]]:
    """``(dataset, name, config)`` of a transfer of ``source`` or ``ValidationError({field: [messages]})``."""
    problem = transfer_problem(source)
    if problem:
        raise ValidationError({"search": [problem]})
    if not isinstance(data, dict):
        raise ValidationError({"__all__": ["Send a JSON object."]})
    errors = Errors()
    for key in sorted(set(data) - set(FIELDS), key=str):
        errors.add(str(key)[:60], f"Unknown field; a transfer takes {', '.join(FIELDS)}.")
    options = dict((source.config or {}).get("space_options") or {})
    arch = _chosen_architecture(source, data.get("architecture"), options, errors)
    dataset = _clean_dataset(source.owner, data.get("dataset"), required=True, errors=errors)
    _check_kind(source_architecture(source) or {}, dataset, errors)
    inputs = _inputs(source, data, errors)
    final = _final(arch or {}, options, data, errors)
    if not errors and dataset is not None and arch is not None:
        _check_fit(arch, options, dataset, inputs, final, errors)
    name = _name(source, dataset, data.get("name"), errors)
    if errors:
        raise ValidationError(dict(errors))
    assert dataset is not None and arch is not None
    config = {"space": arch["space"], "space_options": options, **inputs,
              "budget_seconds": None, "max_archs": None, "max_epochs": None, "final": final,
              "transfer": {"search": source.pk, "architecture": arch}}
    return dataset, name, config


def transfer_best(source: Search, arch: dict[str, Any] | None = None) -> dict[str, Any]:
    """The transfer's ``best`` from the start: the architecture it trains (the source's derived one by
    default) with its drawing and degeneracy, no reward."""
    derived = source_architecture(source)
    if arch is None or arch == derived:
        best = source.best if isinstance(source.best, dict) else {}
        return {**{k: best[k] for k in BEST_KEYS if k in best}, "architecture": derived, "reward": None}
    space = create_space(arch["space"], **((source.config or {}).get("space_options") or {}))
    parsed = space.arch_from_json(arch)
    return {"architecture": arch, "graph": space.graph(parsed),
            "degenerate": space.degenerate_reasons(parsed), "reward": None}


def _chosen_architecture(source: Search, value: Any, options: dict[str, Any],
                         errors: Errors) -> dict[str, Any] | None:
    """The architecture JSON (with ``"space"``) to train: the derived one unless the request names one of
    the source's sampled architectures; ``None`` (and an error) otherwise."""
    if value is None:
        return source_architecture(source)
    space_name = (source.config or {}).get("space")
    if not isinstance(value, dict) or value.get("space", space_name) != space_name:
        errors.add("architecture", f"Must be an architecture JSON object of the {space_name} space.")
        return None
    arch = {**value, "space": space_name}
    try:
        create_space(space_name, **options).arch_from_json(arch)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:  # untrusted JSON
        errors.add("architecture", f"Not a valid {space_name} architecture: {exc}")
        return None
    if not is_sampled(source.pk, arch):
        errors.add("architecture", "Not one of the architectures this search sampled; send one of its "
                                   "arch_sampled events' architectures (a point of its Pareto front).")
        return None
    return arch


def _check_kind(arch: dict[str, Any], dataset: Dataset | None, errors: Errors) -> None:
    if dataset is None:
        return
    kind = space_class(arch["space"]).task_kind
    if TASK_KIND.get(dataset.kind) != kind:
        errors.add("dataset", f"The {arch['space']} architecture takes {kind} data; "
                              f"{dataset.name!r} is a {dataset.kind} dataset.")


def _inputs(source: Search, data: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """``image_size``/``grayscale`` (``None``: the new dataset's own) and ``seed`` (the source's)."""
    values = {"image_size": data.get("image_size"), "grayscale": data.get("grayscale"),
              "seed": data.get("seed", (source.config or {}).get("seed", SEARCH_SCHEMA["seed"].default))}
    for name in INPUT_FIELDS:
        problem = SEARCH_SCHEMA[name].problem(values[name])
        if problem:
            errors.add(name, f"{problem[0].upper()}{problem[1:]}.")
    return values


def _final(arch: dict[str, Any], options: dict[str, Any], data: dict[str, Any],
           errors: Errors) -> dict[str, Any]:
    """The canonical ``final`` section (``final_budget`` merged in), trained from scratch."""
    merged = _final_section({k: data[k] for k in ("final", "final_budget") if k in data}, errors)
    merged = {} if merged is None else merged
    if isinstance(merged, dict) and merged.get("init") == "supernet":
        errors.add("final", "init: a transfer trains from scratch; the search's supernet learned another "
                            "dataset.")
        return {}
    final, problems = final_errors(merged)
    for name, messages in problems.items():
        for message in messages:
            errors.add("final_budget" if name == "budget_seconds" else "final", f"{name}: {message}.")
    if problems:
        return {}
    problem = size_problem(arch, options, {k: final.get(k) for k in SIZES})
    if problem:
        errors.add("final", f"{problem[0].upper()}{problem[1:]}.")
    return {**final, "init": "scratch"}


def _check_fit(arch: dict[str, Any], options: dict[str, Any], dataset: Dataset, inputs: dict[str, Any],
               final: dict[str, Any], errors: Errors) -> None:
    """The child at these sizes is built (on the meta device) for the dataset's task and takes its input."""
    if space_class(arch["space"]).task_kind != IMAGE or not dataset.num_classes:
        return
    side, gray = resolve_input(inputs["image_size"], inputs["grayscale"], native_input(dataset.report or {}))
    task = TaskSpec.image(1 if gray else 3, side, dataset.num_classes)
    try:
        check_fits(arch, options, task, {k: final[k] for k in SIZES if final.get(k) is not None})
    except ValueError as exc:
        errors.add("dataset", f"{str(exc)[0].upper()}{str(exc)[1:]}.")


def _name(source: Search, dataset: Dataset | None, value: Any, errors: Errors) -> str:
    if value is not None and not isinstance(value, str):
        errors.add("name", "Must be text.")
        return ""
    name = (value or "").strip()
    if not name:
        target = dataset.name if dataset is not None else "another dataset"
        suffix = f" → {target[:80]}"
        name = f"{source.name[:200 - len(suffix)]}{suffix}"
    if len(name) > 200:
        errors.add("name", "At most 200 characters.")
    return name


__all__ = ["clean_transfer_data", "source_architecture", "transfer_best", "transfer_problem",
           "transfer_sizes"]
