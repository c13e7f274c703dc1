"""Which space, evaluator and controller go together: the one place that rule lives.

Spaces declare ``task_kind`` and ``has_supernet``; evaluators declare ``task_kinds``, ``spaces``,
``needs_dataset`` and ``needs_supernet`` (see their base classes). ``combination_errors`` reads
those declarations and answers, field by field, why a combination cannot run. The CLI, the web
app's config check, the designer's catalogue (and through its JSON the browser) and the search
loop all ask it, so adding a space or an evaluator never means editing a list of rules elsewhere.
A space without decisions (``trains_only``) is never searched; a run of it is final training only,
which ``run_errors`` (the check of a whole stored run) allows with any dataset-reading evaluator.
"""

from __future__ import annotations

from typing import Any

from searchcore.controllers import list_controllers
from searchcore.evaluators import evaluator_class, list_evaluators
from searchcore.spaces import create_space, list_spaces, space_class

KIND_NAMES = {"image": "image classification", "language": "language modelling"}


def combination_errors(space: str, evaluator: str, controller: str | None = None,
                       dataset_kind: str | None = None) -> dict[str, list[str]]:
    """Field -> messages for a search that cannot run (empty: it can).

    ``dataset_kind`` is the kind of the user's dataset (``"image"``/``"language"``) when known.
    Unknown names are reported under their own field; the pairwise rules are checked only for
    known names.
    """
    errors = _unknown_names(space, evaluator, controller)
    if errors:
        return errors
    problem = evaluator_problem(space, evaluator)
    if problem:
        errors["evaluator"] = [problem]
    return {**errors, **_dataset_errors(space, evaluator, dataset_kind)}


def trains_only(space: str) -> bool:
    """Whether a run of ``space`` (a known name) is final training only: a space without decisions
    holds one architecture (the ``resnet20`` baseline), so there is nothing to search."""
    return not create_space(space).decisions()


def run_errors(space: str, evaluator: str, controller: str | None = None,
               dataset_kind: str | None = None) -> dict[str, list[str]]:
    """``combination_errors`` for a whole run (search, then final training): a run of a
    ``trains_only`` space skips the search, so its evaluator and controller score nothing; it only
    needs a dataset of its kind to train on (an evaluator that reads one makes the app ask for it)."""
    errors = _unknown_names(space, evaluator, controller)
    if errors or not trains_only(space):
        return errors or combination_errors(space, evaluator, controller, dataset_kind)
    if not evaluator_class(evaluator).needs_dataset:
        return {"evaluator": [f"the {space} space is trained on a dataset, not searched; the {evaluator} "
                              "evaluator reads none"]}
    return _dataset_errors(space, evaluator, dataset_kind)


def _unknown_names(space: str, evaluator: str, controller: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    named = {"space": (space, list_spaces()), "evaluator": (evaluator, list_evaluators()),
             "controller": (controller, list_controllers())}
    for field, (name, known) in named.items():
        if name is not None and name not in known:
            errors[field] = [f"unknown {field} {name!r}; choose one of {', '.join(known)}"]
    return errors


def _dataset_errors(space: str, evaluator: str, dataset_kind: str | None) -> dict[str, list[str]]:
    kind = space_class(space).task_kind
    if dataset_kind is not None and dataset_kind != kind and evaluator_class(evaluator).needs_dataset:
        return {"dataset": [f"the {space} space does {KIND_NAMES.get(kind, kind)}; this dataset is for "
                            f"{KIND_NAMES.get(dataset_kind, dataset_kind)}"]}
    return {}


def evaluator_problem(space: str, evaluator: str) -> str | None:
    """Why ``evaluator`` cannot score architectures of ``space`` (both known), or ``None``."""
    space_cls, evaluator_cls = space_class(space), evaluator_class(evaluator)
    if evaluator_cls.spaces is not None and space not in evaluator_cls.spaces:
        allowed = ", ".join(sorted(evaluator_cls.spaces))
        return f"the {evaluator} evaluator works only with the {allowed} space(s)"
    if space_cls.task_kind not in evaluator_cls.task_kinds:
        return (f"the {evaluator} evaluator does not score "
                f"{KIND_NAMES.get(space_cls.task_kind, space_cls.task_kind)} spaces")
    if evaluator_cls.needs_supernet and not space_cls.has_supernet:
        return f"the {evaluator} evaluator shares weights; the {space} space has no shared-weight supernet"
    return None


def needs_dataset(evaluator: str) -> bool:
    """Whether a search with ``evaluator`` reads a user dataset (the benchmark reads a table)."""
    return evaluator_class(evaluator).needs_dataset


def compatibility_table() -> dict[str, Any]:
    """For the designer's JavaScript: per space its kind, the evaluators it can use (with why not) and
    which evaluators read a user dataset."""
    table: dict[str, Any] = {}
    for space in list_spaces():
        reasons = {ev: evaluator_problem(space, ev) for ev in list_evaluators()}
        table[space] = {"task_kind": space_class(space).task_kind,
                        "evaluators": [ev for ev, why in reasons.items() if why is None],
                        "why_not": {ev: why for ev, why in reasons.items() if why is not None},
                        "needs_dataset": {ev: needs_dataset(ev) for ev in reasons}}
    return table


__all__ = ["combination_errors", "compatibility_table", "evaluator_problem", "needs_dataset", "run_errors",
           "trains_only"]
