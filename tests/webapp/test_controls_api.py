"""Controls through the JSON API and the services: created at creation or later, once, by the owner only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.searches.models import Search, TrainedModel
from webapp.searches.services import create_controls, create_search

pytestmark = pytest.mark.django_db
RUN = "worker.tasks.run_search"


def _client(user) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _request(dataset, **extra: Any) -> dict[str, Any]:
    return {"dataset": dataset.pk, "name": "digits", "space": "nb201", "space_options": {"channels": 4},
            "controller": "reinforce", "controller_options": {"lstm_size": 16}, "evaluator": "shared",
            "budget": {"seconds": 90, "max_archs": 50}, "final_budget": {"seconds": 60, "epochs": 30},
            "final": {"cells_per_stage": 1, "channels": 8}, **extra}


def _post(client: Client, body: Any) -> Any:
    return client.post("/api/searches/", json.dumps(body), content_type="application/json")


def test_controls_true_creates_both_controls_queued_after_the_search(
        user, ready_dataset, enqueued, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_client(user), _request(ready_dataset, controls=True))
    assert response.status_code == 201
    body = response.json()
    main = Search.objects.get(pk=body["id"])
    random, baseline = main.controls.order_by("pk")
    assert [c["id"] for c in body["controls"]] == [random.pk, baseline.pk]
    assert [c["role"] for c in body["controls"]] == ["random", "baseline"]
    assert enqueued == [(RUN, [main.pk]), (RUN, [random.pk]), (RUN, [baseline.pk])]
    assert (random.name, baseline.name) == ("digits — random control", "digits — ResNet-20 baseline")
    for control in (random, baseline):
        assert (control.owner, control.dataset, control.control_of, control.status) == (
            user, ready_dataset, main, Search.QUEUED)
        assert control.config["budget_seconds"] == 90 and control.config["final"]["budget_seconds"] == 60
    assert random.config == {**main.config, "controller": "random", "controller_options": {}}
    assert baseline.config["space"] == "resnet20" and baseline.config["space_options"] == {}
    assert (baseline.config["max_archs"], baseline.config["final"]["epochs"]) == (None, None)
    assert (baseline.config["final"]["channels"], baseline.config["final"]["cells_per_stage"]) == (None, None)
    assert baseline.config["final"]["init"] == "scratch"


def test_without_the_flag_or_with_false_only_the_search_is_made(user, ready_dataset, enqueued) -> None:
    client = _client(user)
    for body in (_request(ready_dataset), _request(ready_dataset, controls=False)):
        response = _post(client, body)
        assert response.status_code == 201 and "controls" not in response.json()
    assert Search.objects.count() == 2 and not Search.objects.exclude(role="").exists()


@pytest.mark.parametrize("value", ["true", 1, None, [], {"random": True}])
def test_the_flag_is_a_strict_bool(user, ready_dataset, enqueued, value: Any) -> None:
    response = _post(_client(user), _request(ready_dataset, controls=value, space="no-such-space"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["controls"] == ["Must be true or false."] and "space" in errors  # both reported
    assert not Search.objects.exists() and enqueued == []


def test_controls_that_cannot_run_refuse_the_whole_request(user, ready_dataset, enqueued) -> None:
    body = _request(ready_dataset, controls=True, budget={"max_epochs": 2})  # no time to give ResNet-20
    response = _post(_client(user), body)
    assert response.status_code == 400
    assert "time budgets" in response.json()["errors"]["controls"][0]
    assert not Search.objects.exists() and enqueued == []


def test_the_controls_endpoint_is_idempotent_and_owner_only(
        user, other_user, ready_dataset, enqueued, django_capture_on_commit_callbacks) -> None:
    main = create_search(user, _request(ready_dataset))
    client, url = _client(user), f"/api/searches/{main.pk}/controls"
    assert _client(other_user).post(url).status_code == 404
    assert not main.controls.exists()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
        second = client.post(url)
    assert first.status_code == 201
    assert second.status_code == 200 and second.json() == first.json()
    assert Search.objects.count() == 3 and [name for name, _ in enqueued] == [RUN] * 2  # the controls
    detail = client.get(f"/api/searches/{main.pk}/").json()
    assert [c["role"] for c in detail["controls"]] == ["random", "baseline"] and detail["role"] is None
    control = client.get(f"/api/searches/{detail['controls'][1]['id']}/").json()
    assert (control["role"], control["control_of"], control["space"]) == ("baseline", main.pk, "resnet20")
    assert client.post(f"/api/searches/{control['id']}/controls").status_code == 400  # a control has none


def test_a_second_set_is_refused_by_the_database(user, ready_dataset, enqueued) -> None:
    main = create_search(user, _request(ready_dataset))
    create_controls(main)
    with pytest.raises(IntegrityError), transaction.atomic():
        Search.objects.create(owner=user, dataset=ready_dataset, name="x", config=main.config,
                              control_of=main, role="random")
    assert create_controls(main)[1] is False and main.controls.count() == 2


def test_a_table_search_has_no_controls(user, enqueued) -> None:
    main = create_search(user, {"space": "nb201", "evaluator": "benchmark", "budget": "1m"})
    with pytest.raises(ValidationError, match="reads none"):
        create_controls(main)


def test_the_comparison_endpoint(user, other_user, ready_dataset, enqueued) -> None:
    main = create_search(user, _request(ready_dataset, controls=True))
    random, baseline = main.controls.order_by("pk")
    for run, accuracy in ((main, 0.61), (random, 0.55), (baseline, 0.64)):
        Search.objects.filter(pk=run.pk).update(status=Search.SUCCEEDED)
        TrainedModel.objects.create(search=run, package="x.zip", metrics={
            "test_accuracy": accuracy, "params": 1000 + run.pk, "latency_ms": 0.5})
    client = _client(user)
    body = client.get(f"/api/searches/{main.pk}/comparison").json()
    assert (body["search"], body["decided"], body["winner"]) == (main.pk, True, "baseline")
    assert body["sentence"] == ("NAS lost: the ResNet-20 baseline won with 64.0 % test accuracy, 3.0 points "
                                "above NAS (61.0 %); the random control reached 55.0 %.")
    assert [(r["role"], r["test_accuracy"], r["params"]) for r in body["runs"]] == [
        ("nas", 0.61, 1000 + main.pk), ("random", 0.55, 1000 + random.pk),
        ("baseline", 0.64, 1000 + baseline.pk)]
    assert client.get(f"/api/searches/{random.pk}/comparison").json() == body  # a control's is its search's
    assert _client(other_user).get(f"/api/searches/{main.pk}/comparison").status_code == 404


def test_a_language_search_gets_a_random_control_and_an_lstm_baseline(
        user, enqueued, settings, tmp_path, django_capture_on_commit_callbacks) -> None:
    """Issue 7 item 7 for language (issue 9's lstm space): the baseline is the plain LSTM, as wide as the
    searched cell when the search set its width, trained for the whole budget; the comparison ranks by
    test perplexity, lower first."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from webapp.datasets.models import Dataset
    from webapp.datasets.services import create_dataset
    from webapp.searches.comparison import comparison
    from worker.datasets import validate_dataset

    settings.MEDIA_ROOT = tmp_path
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
    dataset = create_dataset(user, "wiki", SimpleUploadedFile("wiki.txt", corpus.read_bytes()))
    assert validate_dataset(dataset.pk) == Dataset.READY
    body = {"dataset": dataset.pk, "name": "lm", "space": "enas-rnn",
            "space_options": {"num_nodes": 3, "hidden_size": 24}, "evaluator": "shared",
            "budget": {"seconds": 90}, "final_budget": {"seconds": 60}, "final": {"bptt": 20},
            "controls": True}
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_client(user), body)
    assert response.status_code == 201, response.json()
    main = Search.objects.get(pk=response.json()["id"])
    random, baseline = main.controls.order_by("pk")
    assert baseline.name == "lm — LSTM baseline" and baseline.config["space"] == "lstm"
    assert baseline.config["space_options"] == {"hidden_size": 24}
    assert baseline.config["final"]["bptt"] == 20 and baseline.config["final"]["init"] == "scratch"
    assert "aux_head" not in baseline.config["final"] and random.config["controller"] == "random"

    for run, ppl in ((main, 180.0), (random, 200.0), (baseline, 150.0)):
        Search.objects.filter(pk=run.pk).update(status=Search.SUCCEEDED)
        TrainedModel.objects.create(search=run, metrics={"test_perplexity": ppl, "test_accuracy": 0.2})
    result = comparison(main)
    assert result["decided"] and result["winner"] == "baseline"
    assert result["metric"]["key"] == "test_perplexity"
    assert result["sentence"] == ("NAS lost: the LSTM baseline won with 150.0 test perplexity, 30.0 below "
                                  "NAS (180.0); the random control reached 200.0.")
