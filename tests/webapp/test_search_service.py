from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from webapp.datasets.models import Dataset
from webapp.searches.models import Search, SearchEvent
from webapp.searches.services import cancel_search, create_search, queue_position, rerun_search

pytestmark = pytest.mark.django_db


def _data(dataset: Dataset | None, **over: Any) -> dict[str, Any]:
    data = {"dataset": dataset.pk if dataset else None, "space": "enas-micro",
            "space_options": {"num_nodes": 2, "cells_per_stage": 1, "channels": 4},
            "controller": "reinforce", "evaluator": "shared", "budget": "20m"}
    data.update(over)
    return data


def _budget(config: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": config["budget_seconds"], "max_archs": config["max_archs"],
            "max_epochs": config["max_epochs"]}


def _errors(user, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as err:
        create_search(user, data)
    return err.value.message_dict


def test_valid_search_is_stored_and_enqueued_after_commit(
    user, ready_dataset, enqueued, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        search = create_search(user, _data(ready_dataset, final_budget="30s", seed=3))
        assert enqueued == []
    assert enqueued == [("worker.tasks.run_search", [search.pk])]
    assert search.status == Search.QUEUED and search.dataset == ready_dataset
    assert _budget(search.config) == {"seconds": 1200.0, "max_archs": None, "max_epochs": None}
    assert (search.config["final"]["budget_seconds"], search.config["final"]["epochs"]) == (30.0, None)
    assert search.config["seed"] == 3 and search.name == "enas-micro / reinforce"


@pytest.mark.parametrize(
    ("budget", "stored"),
    [
        ({"max_epochs": 2}, {"seconds": None, "max_archs": None, "max_epochs": 2}),
        ({"seconds": 90, "max_archs": 5}, {"seconds": 90.0, "max_archs": 5, "max_epochs": None}),
        ({"seconds": "2h"}, {"seconds": 7200.0, "max_archs": None, "max_epochs": None}),
        (45, {"seconds": 45.0, "max_archs": None, "max_epochs": None}),
    ],
)
def test_budget_forms(user, ready_dataset, enqueued, budget, stored) -> None:
    assert _budget(create_search(user, _data(ready_dataset, budget=budget)).config) == stored


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"space": "no-such-space"}, "space"),
        ({"space": None}, "space"),
        ({"space_options": {"num_nodes": 99}}, "space_options"),
        ({"space_options": {"wings": 2}}, "space_options"),
        ({"space_options": [1, 2]}, "space_options"),
        ({"controller": "genius"}, "controller"),
        ({"evaluator": "oracle"}, "evaluator"),
        ({"evaluator": "benchmark"}, "evaluator"),  # benchmark needs the nb201 space
        ({"budget": None}, "budget"),
        ({"budget": "soon"}, "budget"),
        ({"budget": {"max_archs": 0}}, "budget"),
        ({"budget": {"minutes": 3}}, "budget"),
        ({"budget": "99h"}, "budget"),
        ({"final_budget": "later"}, "final_budget"),
        ({"batch_size": 0}, "batch_size"),
        ({"grayscale": "yes"}, "grayscale"),
        ({"colour": "red"}, "colour"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_invalid_requests_get_field_errors(user, ready_dataset, enqueued, over, field) -> None:
    errors = _errors(user, _data(ready_dataset, **over))
    assert field in errors, errors
    assert not Search.objects.exists() and enqueued == []


def test_dataset_must_be_the_users_and_ready(user, other_user, ready_dataset, enqueued) -> None:
    assert "dataset" in _errors(other_user, _data(ready_dataset))  # not theirs
    assert "dataset" in _errors(user, _data(None))  # required for image searches
    ready_dataset.status = Dataset.VALIDATING
    ready_dataset.save()
    assert "still being validated" in _errors(user, _data(ready_dataset))["dataset"][0]
    ready_dataset.status, ready_dataset.error = Dataset.FAILED, "no images"
    ready_dataset.save()
    assert "no images" in _errors(user, _data(ready_dataset))["dataset"][0]


@pytest.mark.parametrize(("over", "field", "text"), [
    ({"controller_options": {"lr": "x"}}, "controller_options", "lr: must be a number"),
    ({"controller_options": {"lstm_sise": 32}}, "controller_options", "lstm_sise"),
    ({"controller": "random", "controller_options": {"lr": 0.1}}, "controller_options", "lr"),
    ({"evaluator_options": {"batch_size": 2.5}}, "evaluator_options", "batch_size: must be a whole number"),
    ({"evaluator_options": {"budget_fraction": 1}}, "evaluator_options", "budget_fraction"),
    ({"evaluator_options": {"augment": 1}}, "evaluator_options", "augment: must be true or false"),
])
def test_strategy_options_are_checked_when_the_search_is_created(user, ready_dataset, enqueued, over, field,
                                                                 text) -> None:
    assert text in " ".join(_errors(user, _data(ready_dataset, **over))[field])
    assert enqueued == [] and not Search.objects.exists()


def test_good_strategy_options_pass(user, ready_dataset, enqueued) -> None:
    search = create_search(user, _data(ready_dataset, controller_options={"lr": 0.01, "temperature": None},
                                       evaluator_options={"batch_size": 32, "augment": False}))
    assert search.config["controller_options"] == {"lr": 0.01, "temperature": None}


def test_a_text_corpus_is_refused_for_an_image_space(user, ready_dataset, enqueued) -> None:
    ready_dataset.kind = Dataset.TEXT
    ready_dataset.save(update_fields=["kind"])
    assert "language modelling" in _errors(user, _data(ready_dataset))["dataset"][0]
    assert enqueued == [] and not Search.objects.exists()


def test_benchmark_search_on_nb201_needs_no_dataset(user, enqueued) -> None:
    search = create_search(user, {"space": "nb201", "controller": "random", "evaluator": "benchmark",
                                  "budget": {"max_archs": 10}})
    assert search.dataset is None and search.config["evaluator"] == "benchmark"


def test_non_object_body_is_refused(user) -> None:
    with pytest.raises(ValidationError):
        create_search(user, ["not", "a", "dict"])


def test_cancel_of_a_queued_search_ends_it_at_once_with_a_finished_event(
    user, ready_dataset, enqueued
) -> None:
    search = create_search(user, _data(ready_dataset))
    search = cancel_search(search)
    assert search.status == Search.CANCELLED and search.cancel_requested and search.finished_at
    event = SearchEvent.objects.get(search=search)
    assert (event.seq, event.type, event.payload["status"]) == (1, "finished", "cancelled")
    assert search.last_seq == 1


def test_cancel_of_a_running_search_is_cooperative(user, ready_dataset, enqueued) -> None:
    search = create_search(user, _data(ready_dataset))
    Search.objects.filter(pk=search.pk).update(status=Search.RUNNING)
    search = cancel_search(search)
    assert search.status == Search.CANCELLING and search.cancel_requested
    assert not SearchEvent.objects.exists()  # the worker emits "finished" when it stops
    Search.objects.filter(pk=search.pk).update(status=Search.SUCCEEDED)
    assert cancel_search(search).status == Search.SUCCEEDED  # a finished search stays as it is


def test_rerun_copies_the_config_and_enqueues(
    user, ready_dataset, enqueued, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        search = create_search(user, _data(ready_dataset, name="first"))
        again = rerun_search(rerun_search(search))
    assert again.pk != search.pk and again.config == search.config and again.status == Search.QUEUED
    assert again.name == "first (re-run)"
    assert [name for name, _ in enqueued] == ["worker.tasks.run_search"] * 3


def test_queue_position_counts_older_queued_searches(user, other_user, ready_dataset, enqueued) -> None:
    first = create_search(user, _data(ready_dataset))
    second = create_search(user, _data(ready_dataset))
    third = create_search(user, _data(ready_dataset))
    assert [queue_position(s) for s in (first, second, third)] == [1, 2, 3]
    cancel_search(first)
    second.refresh_from_db()
    assert queue_position(second) == 1 and queue_position(first) is None


@pytest.mark.parametrize(("over", "field"), [
    ({"dataset": True}, "dataset"),
    ({"dataset": 1.5}, "dataset"),
    ({"final_budget": True}, "final"),
    ({"budget": {"max_archs": 10**15}}, "budget"),
    ({"final_budget": {"epochs": 10**9}}, "final"),
    ({"controller_options": {"lstm_size": "5000"}}, "controller_options"),
    ({"controller_options": {"lstm_size": 5000}}, "controller_options"),
    ({"controller_options": {"lstm_size": 10**8}}, "controller_options"),
    ({"controller_options": {"lr": True}}, "controller_options"),
    ({"evaluator_options": {"batch_size": 10**6}}, "evaluator_options"),
    ({"final": {"batch_size": 0}}, "final"),
    ({"final": "big"}, "final"),
])
def test_bad_requests_are_refused_without_building_a_model(user, ready_dataset, enqueued, monkeypatch,
                                                          over, field) -> None:
    import torch

    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a model was built to validate a request")

    monkeypatch.setattr(torch.nn.LSTMCell, "__init__", boom)
    monkeypatch.setattr(torch.nn.Module, "__init__", boom)
    assert field in _errors(user, {**_data(ready_dataset), **over})
    assert enqueued == [] and not Search.objects.exists()


def test_stored_config_is_the_engine_config(user, ready_dataset, enqueued) -> None:
    from searchcore.validation import validate_search

    search = create_search(user, _data(ready_dataset, budget={"seconds": "2m", "max_epochs": 3},
                                       final_budget="30s", final={"batch_size": 24, "aux_head": True}))
    engine = {k: v for k, v in _data(ready_dataset).items() if k not in ("dataset", "budget")}
    engine.update(budget_seconds=120.0, max_epochs=3, final={"budget_seconds": 30.0, "batch_size": 24,
                                                           "aux_head": True})
    assert search.config == validate_search(engine)[0]
    assert search.config["final"]["batch_size"] == 24 and search.config["batch_size"] is None


def test_run_again_keeps_the_engine_config(user, ready_dataset, enqueued) -> None:
    search = create_search(user, _data(ready_dataset, batch_size=32))
    again = rerun_search(search)
    assert again.config == search.config and again.config["final"]["batch_size"] is None
