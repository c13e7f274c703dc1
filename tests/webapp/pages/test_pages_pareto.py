"""The results page's accuracy-versus-latency card (issue 7 item 6): only for a latency target."""

from __future__ import annotations

import html
import json
import re

from tests.webapp.pages.conftest import MICRO_GRAPH, add_event
from webapp.pages.pareto import pareto_data
from webapp.searches.models import Search


def _arch(op: str) -> dict:
    return {"space": "enas-micro", "normal": [[0, op, 1, op]] * 2, "reduce": [[0, "max3", 1, op]] * 2}


def _sampled(seq: int, search: Search, op: str, accuracy: float | None, latency: float | None) -> None:
    payload = {"step": seq, "architecture": _arch(op), "reward": 0.5, "graph": MICRO_GRAPH}
    if accuracy is not None:
        payload.update(accuracy=accuracy, latency_ms=latency)
    add_event(search, seq, "arch_sampled", payload)


def _pareto_json(html: str) -> dict | None:
    match = re.search(r'<script id="pareto-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


def test_the_scatter_data_is_on_the_page_of_a_search_with_a_latency_target(client_a, search):
    Search.objects.filter(pk=search.pk).update(
        status=Search.SUCCEEDED, config={**search.config, "latency_target_ms": 4.0, "latency_mode": "hard"})
    _sampled(1, search, "sep3", 0.6, 5.0)
    _sampled(2, search, "sep3", 0.8, 5.0)  # the same architecture scored again: one point, mean accuracy
    _sampled(3, search, "identity", 0.3, 1.5)
    _sampled(4, search, "sep5", None, None)  # no latency (before the option): not a point
    best = {"step": 4, "architecture": _arch("sep3"), "reward": 0.6, "graph": MICRO_GRAPH, "derived": True,
            "accuracy": 0.75, "latency_ms": 5.0}
    add_event(search, 5, "best", best)
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="chart-pareto"' in html and "js/results_pareto.js" in html and "hard penalty" in html
    data = _pareto_json(html)
    assert data is not None and data["target_ms"] == 4.0 and data["left_out"] == 0
    assert [(p["latency_ms"], p["samples"]) for p in data["points"]] == [(1.5, 1), (5.0, 2)]
    assert data["points"][1]["accuracy"] == 0.7 and data["points"][1]["architecture"] == _arch("sep3")
    assert data["derived"]["architecture"] == _arch("sep3") and data["derived"]["accuracy"] == 0.75


def test_no_card_without_a_latency_target(client_a, search):
    _sampled(1, search, "sep3", 0.6, 5.0)
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="pareto"' not in html and _pareto_json(html) is None
    assert pareto_data(search) is None


def test_the_most_accurate_points_are_kept_when_there_are_too_many(search, monkeypatch):
    monkeypatch.setattr("webapp.pages.pareto.MAX_POINTS", 2)
    Search.objects.filter(pk=search.pk).update(config={**search.config, "latency_target_ms": 4.0})
    search.refresh_from_db()
    for seq, (op, accuracy) in enumerate([("sep3", 0.5), ("sep5", 0.9), ("identity", 0.2)], start=1):
        _sampled(seq, search, op, accuracy, float(seq))
    data = pareto_data(search)
    assert [p["accuracy"] for p in data["points"]] == [0.5, 0.9] and data["left_out"] == 1
    assert data["derived"] is None


def _finished_with_front(search: Search) -> Search:
    """A succeeded search with a latency target: sep3 (0.7, 5 ms) and identity (0.3, 1.5 ms) are the front,
    sep5 (0.5, 6 ms) is beaten by sep3 on both counts."""
    best = {"architecture": {k: v for k, v in _arch("sep3").items() if k != "space"}, "reward": 0.6}
    Search.objects.filter(pk=search.pk).update(
        status=Search.SUCCEEDED, best=best, config={**search.config, "latency_target_ms": 4.0})
    search.refresh_from_db()
    for seq, (op, accuracy, latency) in enumerate([("sep3", 0.7, 5.0), ("identity", 0.3, 1.5),
                                                   ("sep5", 0.5, 6.0)], start=1):
        _sampled(seq, search, op, accuracy, latency)
    return search


def test_the_front_is_listed_and_its_chosen_point_is_trained_on_the_searchs_dataset(
        client_a, search, _media_and_queue, django_capture_on_commit_callbacks):
    source = _finished_with_front(search)
    data = pareto_data(source)
    assert [(p["latency_ms"], p["accuracy"]) for p in data["front"]] == [(1.5, 0.3), (5.0, 0.7)]
    html = client_a.get(f"/searches/{source.pk}/results").content.decode()
    assert 'data-testid="pareto-train-form"' in html and html.count('data-testid="pareto-front-point"') == 2
    chosen = data["front"][0]  # the fast one, not the derived architecture
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(f"/searches/{source.pk}/transfer", {
            "dataset": str(source.dataset_id), "architecture": chosen["architecture_json"],
            "budget_value": "3", "budget_unit": "epochs"})
    new = Search.objects.get(transfer_of=source)
    assert response.status_code == 302 and response["Location"] == f"/searches/{new.pk}/"
    assert _media_and_queue == [("worker.tasks.run_search", [new.pk])]
    assert new.dataset_id == source.dataset_id and new.config["final"]["epochs"] == 3
    assert new.config["transfer"]["architecture"] == _arch("identity")
    assert new.best["architecture"] == _arch("identity") and new.best["reward"] is None
    assert new.best["graph"]["cells"][0]["name"] == "normal"  # drawn from the chosen architecture
    assert new.best["degenerate"]  # only parameter-free ops: the page flags it as for any run


def test_an_architecture_the_search_never_sampled_is_refused(client_a, search):
    source = _finished_with_front(search)
    for value in (json.dumps(_arch("sep5") | {"normal": [[0, "sep5", 0, "sep5"]] * 2}), "{not json"):
        response = client_a.post(f"/searches/{source.pk}/transfer", {
            "dataset": str(source.dataset_id), "architecture": value}, follow=True)
        page = response.content.decode()
        assert "Cannot train it on another dataset: architecture:" in html.unescape(page), value
    assert not Search.objects.filter(transfer_of=source).exists()
