from __future__ import annotations

import pytest

from tests.webapp.pages.conftest import MICRO_GRAPH, add_event
from webapp.searches.models import Search, SearchEvent, TrainedModel

METRICS = {
    "test_accuracy": 0.55, "accuracy": 0.55, "num_samples": 20, "class_names": ["airplane", "cat"],
    "confusion_matrix": [[6, 4], [5, 5]],
    "per_class": {"airplane": {"precision": 0.5454, "recall": 0.6, "f1": 0.57, "support": 10},
                  "cat": {"precision": 0.5555, "recall": 0.5, "f1": 0.526, "support": 10}},
    "macro": {"precision": 0.55, "recall": 0.55, "f1": 0.548},
}


def test_list_shows_status_badges_and_queue_position(client_a, alice, dataset, search):
    Search.objects.create(owner=alice, dataset=dataset, name="waiting", config={"space": "nb201"})
    Search.objects.create(owner=alice, dataset=dataset, name="broken", config={}, status=Search.FAILED,
                          message="CUDA out of memory")
    html = client_a.get("/searches/").content.decode()
    assert '<span class="badge running">' in html and "40 %" in html
    assert '<span class="badge queued">' in html and "#1 in queue" in html
    assert '<span class="badge failed">' in html and "CUDA out of memory" in html
    partial = client_a.get("/searches/?partial=1").content.decode()
    assert partial.lstrip().startswith("<tr") and "<html" not in partial


def test_empty_searches_list(client_a):
    assert "No searches yet" in client_a.get("/searches/").content.decode()


def test_live_page_wires_the_websocket(client_a, search):
    html = client_a.get(f"/searches/{search.pk}/").content.decode()
    assert f'data-ws-path="/ws/searches/{search.pk}/"' in html
    assert 'src="/assets/plotly-' in html and "js/live.js" in html
    assert 'id="cancel-form"' in html


@pytest.mark.parametrize("suffix", ["", "results", "graph.svg?which=best"])
def test_other_users_search_is_404(client, bob, search, suffix):
    add_event(search, 1, "best", {"step": 1, "architecture": {}, "reward": 0.5, "graph": MICRO_GRAPH})
    client.force_login(bob)
    assert client.get(f"/searches/{search.pk}/{suffix}").status_code == 404


def test_other_users_cannot_cancel_or_rerun(client, bob, search):
    client.force_login(bob)
    assert client.post(f"/searches/{search.pk}/cancel").status_code == 404
    assert client.post(f"/searches/{search.pk}/rerun").status_code == 404
    search.refresh_from_db()
    assert search.status == Search.RUNNING and Search.objects.count() == 1


def test_cell_svg_per_event_and_cell(client_a, search):
    add_event(search, 1, "arch_sampled", {"step": 1, "architecture": {}, "reward": 0.1, "graph": MICRO_GRAPH})
    add_event(search, 2, "best", {"step": 1, "architecture": {}, "reward": 0.1, "graph": MICRO_GRAPH})
    response = client_a.get(f"/searches/{search.pk}/graph.svg?which=sampled&seq=1&cell=0")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "<svg" in svg and "sep3" in svg and "max3" not in svg
    reduce = client_a.get(f"/searches/{search.pk}/graph.svg?which=best&cell=1").content.decode()
    assert "max3" in reduce
    assert client_a.get(f"/searches/{search.pk}/graph.svg?which=sampled&seq=2").status_code == 404
    assert client_a.get(f"/searches/{search.pk}/graph.svg?which=best&cell=5").status_code == 404
    assert client_a.get(f"/searches/{search.pk}/graph.svg?which=nonsense").status_code == 404


def _redrawn(graph: dict, old: str, new: str) -> dict:
    cells = [{**c, "nodes": [{**n, "label": new if n["label"] == old else n["label"]} for n in c["nodes"]],
              "edges": [{**e, "label": new if e["label"] == old else e["label"]} for e in c["edges"]]}
             for c in graph["cells"]]
    return {"cells": cells}


def test_cell_svg_follows_an_event_replaced_by_a_resume(client_a, search):
    first = add_event(search, 3, "arch_sampled", {"step": 2, "architecture": {}, "graph": MICRO_GRAPH})
    url = f"/searches/{search.pk}/graph.svg?which=sampled&seq=3&cell=0"
    old = client_a.get(f"{url}&t={first.time!r}")
    assert old.status_code == 200 and "sep3" in old.content.decode()
    assert old["Cache-Control"] == "private, max-age=86400"
    # The worker crashed and resumed: events after the checkpoint are gone, seq 3 is emitted again.
    SearchEvent.objects.filter(search=search, seq__gte=3).delete()
    second = add_event(search, 3, "arch_sampled",
                       {"step": 2, "architecture": {}, "graph": _redrawn(MICRO_GRAPH, "sep3", "dil5")})
    second.time = first.time + 7.25
    second.save(update_fields=["time"])
    new = client_a.get(f"{url}&t={second.time!r}").content.decode()
    assert "dil5" in new and "sep3" not in new
    assert client_a.get(f"{url}&t={first.time!r}").status_code == 404  # the viewer's event is gone
    bare = client_a.get(url)  # no time: the current drawing, but never cached for long
    assert "dil5" in bare.content.decode() and bare["Cache-Control"] == "private, no-cache"
    assert client_a.get(f"{url}&t=nan").status_code == 404


def test_cancel_a_running_search(client_a, search):
    response = client_a.post(f"/searches/{search.pk}/cancel")
    assert response.status_code == 302
    search.refresh_from_db()
    assert search.status == Search.CANCELLING and search.cancel_requested


def test_cancel_a_queued_search_finishes_it(client_a, search):
    Search.objects.filter(pk=search.pk).update(status=Search.QUEUED)
    client_a.post(f"/searches/{search.pk}/cancel")
    search.refresh_from_db()
    assert search.status == Search.CANCELLED
    assert SearchEvent.objects.get(search=search, type="finished").payload["status"] == "cancelled"


def test_results_page(client_a, search):
    best = {"reward": 0.61, "architecture": {}}
    Search.objects.filter(pk=search.pk).update(status=Search.SUCCEEDED, best=best)
    add_event(search, 1, "best", {"step": 3, "architecture": {}, "reward": 0.61, "graph": MICRO_GRAPH})
    add_event(search, 2, "final_epoch", {"epoch": 1, "epochs": 2, "loss": 2.0, "accuracy": 0.3,
                                         "valid_accuracy": 0.25, "lr": 0.05})
    TrainedModel.objects.create(search=search, metrics=METRICS, package="searches/1/package.zip")
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert "55.0 %" in html  # test accuracy
    assert 'id="per-class"' in html and "0.545" in html and "0.600" in html
    assert '"confusion_matrix"' not in html and '"matrix": [[6, 4], [5, 5]]' in html
    assert f'href="/api/searches/{search.pk}/package"' in html
    assert "normal cell" in html and "reduce cell" in html
    assert "graph.svg?which=best&amp;cell=1" in html
    assert '"valid_accuracy": 0.25' in html  # final-training curve data
    assert "60 s" in html and "30 s" in html  # budgets in the configuration table


def test_results_before_any_result_is_calm(client_a, search):
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert "still running" in html and "Available once the final model is evaluated." in html


def test_rerun_creates_a_new_search(client_a, search, _media_and_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(f"/searches/{search.pk}/rerun")
    new = Search.objects.exclude(pk=search.pk).get()
    assert response["Location"] == f"/searches/{new.pk}/"
    assert new.config == search.config and new.status == Search.QUEUED
    assert ("worker.tasks.run_search", [new.pk]) in _media_and_queue


def test_edit_and_run_again_prefills_the_designer(client_a, search):
    html = client_a.get(f"/searches/new?from={search.pk}").content.decode()
    assert 'value="first (again)"' in html
    assert 'name="opt-enas-micro-num_nodes" value="2"' in html
    assert '<option value="time" selected>' in html and 'name="budget_value" value="1.0"' in html


@pytest.mark.parametrize(("budget", "final", "expected"), [
    ({"seconds": None, "max_archs": None, "max_epochs": 3}, {"seconds": None, "epochs": 4},
     ['<option value="epochs" selected>Epochs</option>', 'name="budget_value" value="3"',
      'name="final_value" value="4"', '<option value="epochs" selected>epochs</option>']),
    ({"seconds": None, "max_archs": 25, "max_epochs": None}, {"seconds": 7200.0, "epochs": None},
     ['<option value="archs" selected>', 'name="budget_value" value="25"', 'name="final_value" value="2.0"',
      '<option value="h" selected>hours</option>']),
])
def test_edit_and_run_again_prefills_every_budget_kind(client_a, search, budget, final, expected):
    search.config = {**search.config, "budget_seconds": budget["seconds"], "max_archs": budget["max_archs"],
                     "max_epochs": budget["max_epochs"],
                     "final": {"budget_seconds": final["seconds"], "epochs": final["epochs"]}}
    search.save()
    html = client_a.get(f"/searches/new?from={search.pk}").content.decode()
    for fragment in expected:
        assert fragment in html


def test_epoch_budgets_round_trip_through_the_designer(client_a, search, dataset):
    """Designer -> stored config -> "Edit and run again" -> designer again keeps the epoch budgets."""
    form = {"name": "epochs", "dataset": str(dataset.pk), "space": "enas-micro", "controller": "reinforce",
            "evaluator": "shared", "budget_kind": "epochs", "budget_value": "3", "budget_unit": "m",
            "final_value": "5", "final_unit": "epochs", "opt-enas-micro-ops": ["sep3"],
            "opt-enas-micro-num_nodes": "2", "opt-enas-micro-cells_per_stage": "1",
            "opt-enas-micro-channels": "8"}
    assert client_a.post("/searches/new", form).status_code == 302
    stored = Search.objects.get(name="epochs")
    config = stored.config
    assert (config["budget_seconds"], config["max_archs"], config["max_epochs"]) == (None, None, 3)
    assert (config["final"]["budget_seconds"], config["final"]["epochs"]) == (None, 5)
    html = client_a.get(f"/searches/new?from={stored.pk}").content.decode()
    assert '<option value="epochs" selected>Epochs</option>' in html
    assert '<option value="epochs" selected>epochs</option>' in html
    assert 'name="budget_value" value="3"' in html and 'name="final_value" value="5"' in html


def test_results_configuration_names_every_budget_in_words():
    from webapp.pages.results import config_rows

    rows = dict(config_rows({"budget": {"seconds": None, "max_archs": 25, "max_epochs": 3},
                             "final_budget": {"seconds": 120.0, "epochs": 4}}))
    assert rows["Search budget"] == "25 architectures, 3 epochs"
    assert rows["Final training"] == "2 min, 4 epochs"


def test_results_configuration_reads_the_engine_config():
    from webapp.pages.results import config_rows

    rows = dict(config_rows({"space": "nb201", "budget_seconds": None, "max_archs": 25, "max_epochs": 3,
                             "final": {"budget_seconds": 120.0, "epochs": 4, "batch_size": 64}}))
    assert rows["Search budget"] == "25 architectures, 3 epochs"
    assert rows["Final training"] == "2 min, 4 epochs"
