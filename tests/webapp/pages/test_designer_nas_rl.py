"""The designer with a space that has no supernet (nas-rl-cnn): preview, estimate and plan answer, and
starting it with a weight-sharing evaluator is refused beside the evaluator field, not a crash."""

from __future__ import annotations

import json

from searchcore.compat import combination_errors
from searchcore.evaluators import list_evaluators
from webapp.searches.models import Search

OPTIONS = {"num_layers": 3, "channels": 4, "stride": "searched"}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_preview_draws_the_stack_with_its_skip_connections(client_a):
    body = _post(client_a, "/designer/preview", {"space": "nas-rl-cnn", "options": OPTIONS, "seed": 4}).json()
    assert body["architecture"]["space"] == "nas-rl-cnn" and len(body["architecture"]["layers"]) == 3
    assert body["cells"] == ["3 conv layers"] and "conv" in body["cell_svgs"][0]
    assert int(body["size"]) == (4 * 4 * 3 * 4) ** 3 * 2**3


def test_estimate_and_plan_answer_for_every_evaluator(client_a, dataset):
    """An evaluator that serves the space times its standalone child; one that shares weights gets
    the compatibility rule's sentence under ``evaluator`` (a 400, not a failed measurement)."""
    request = {"space": "nas-rl-cnn", "options": OPTIONS, "dataset": dataset.pk, "device": "cpu"}
    for evaluator in list_evaluators():
        body = {**request, "evaluator": evaluator}
        estimate = _post(client_a, "/designer/estimate", body)
        plan = _post(client_a, "/designer/plan", {**body, "search_seconds": 60, "final_seconds": 60})
        errors = combination_errors("nas-rl-cnn", evaluator)
        if errors:
            for response in (estimate, plan):
                assert response.status_code == 400
                assert response.json()["errors"] == {"evaluator": errors["evaluator"][0]}
            continue
        assert estimate.status_code == 200 and estimate.json()["seconds_per_epoch"] >= 0
        assert plan.status_code == 200


def test_a_weight_sharing_evaluator_is_refused_beside_its_field(client_a, dataset):
    data = {"name": "d1", "dataset": str(dataset.pk), "space": "nas-rl-cnn", "controller": "reinforce",
            "evaluator": "shared", "budget_kind": "time", "budget_value": "2", "budget_unit": "m",
            "final_value": "1", "final_unit": "m", "opt-nas-rl-cnn-num_layers": "3",
            "opt-nas-rl-cnn-stride": "fixed", "opt-nas-rl-cnn-channels": "4",
            "opt-nas-rl-cnn-filter_heights": ["1", "3"], "opt-nas-rl-cnn-filter_widths": ["3"],
            "opt-nas-rl-cnn-filter_counts": ["24", "36"]}
    response = client_a.post("/searches/new", data)
    assert response.status_code == 400 and Search.objects.count() == 0
    html = response.content.decode()
    field = html[html.index('id="field-evaluator"'):][:2000]
    assert combination_errors("nas-rl-cnn", "shared")["evaluator"][0] in field
