"""The designer shows what a budget buys before Start (issue 7, item 1)."""

from __future__ import annotations

import json

from searchcore.planning import MIN_FINAL_EPOCHS, MIN_SEARCH_EPOCHS

OPTIONS = {"num_nodes": 2}  # enas-micro; the planner chooses channels and cells


def _plan(client, **body):
    request = {"space": "enas-micro", "options": OPTIONS, **body}
    return client.post("/designer/plan", json.dumps(request), content_type="application/json")


def test_a_budget_too_small_says_so_and_proposes_the_smallest_that_can(client_a, dataset):
    body = _plan(client_a, dataset=dataset.pk, search_seconds=1.0, final_seconds=0.5).json()
    search, final = body["search"], body["final"]
    assert search["meaningful"] is False and "too little for the controller to learn" in search["message"]
    assert search["minimum_budget_seconds"] > 1.0 and "Give the search at least" in search["message"]
    assert final["meaningful"] is False and "Give final training at least" in final["message"]
    assert body["assumed_sizes"] is False and body["train_size"] == 16  # the dataset's own split


def test_an_ample_budget_buys_the_minimums_with_the_numbers_shown(client_a, dataset, monkeypatch):
    from searchcore.planning import StepTiming
    from webapp.designer import plan as designer_plan

    def fast(device="cpu", arch=None, threads=None):  # measuring is tested in tests/searchcore/planning
        return lambda space, options, task, supernet, batch: StepTiming(train_step=1e-4, forward=3e-5)

    monkeypatch.setattr(designer_plan, "default_measure", fast)
    body = _plan(client_a, dataset=dataset.pk, search_seconds=3600.0, final_seconds=3600.0).json()
    search, final = body["search"], body["final"]
    assert search["meaningful"] and search["epochs"] >= MIN_SEARCH_EPOCHS and search["controller_steps"] > 0
    assert final["meaningful"] and final["epochs"] >= MIN_FINAL_EPOCHS
    assert "buys about" in search["message"] and "Final training gets about" in final["message"]


def test_no_time_budget_plans_nothing_and_bad_input_is_a_400(client_a):
    body = _plan(client_a, search_seconds=None, final_seconds="2m").json()
    assert body["search"] is None and body["final"] is None and body["assumed_sizes"] is True
    assert _plan(client_a, search_seconds=True).json()["search"] is None  # a boolean is not seconds
    bad = client_a.post("/designer/plan", b"[]", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["errors"]


def test_a_table_search_is_not_planned(client_a):
    request = {"space": "nb201", "options": {}, "evaluator": "benchmark", "search_seconds": 60}
    body = client_a.post("/designer/plan", json.dumps(request), content_type="application/json")
    assert body.status_code == 200 and body.json()["search"] is None


def test_the_designer_page_has_the_plan_box(client_a):
    html = client_a.get("/searches/new").content.decode()
    assert 'data-plan-url="/designer/plan"' in html and 'id="plan-box"' in html


def test_a_scratch_search_shows_its_controller_steps_and_children(client_a, dataset, monkeypatch):
    from searchcore.planning import StepTiming
    from searchcore.planning.children import MIN_SCRATCH_STEPS
    from webapp.designer import plan as designer_plan

    def fast(device="cpu", arch=None, threads=None):
        return lambda space, options, task, supernet, batch: StepTiming(train_step=1e-3, forward=3e-4)

    monkeypatch.setattr(designer_plan, "default_measure", fast)
    body = _plan(client_a, space="nas-rl-cnn", options={"num_layers": 3}, evaluator="scratch",
                 dataset=dataset.pk, search_seconds=600.0, final_seconds=60.0).json()
    search = body["search"]
    assert search["meaningful"] and search["controller_steps"] >= MIN_SCRATCH_STEPS
    assert search["child_seconds"] > 0 and "children, each trained from scratch" in search["message"]
    monkeypatch.setattr(designer_plan, "default_measure", lambda device="cpu", arch=None, threads=None: (
        lambda space, options, task, supernet, batch: StepTiming(train_step=1.0, forward=0.3)))
    slow = _plan(client_a, space="nas-rl-cnn", options={"num_layers": 3}, evaluator="scratch",
                 dataset=dataset.pk, search_seconds=60.0).json()["search"]
    assert not slow["meaningful"] and "Give the search at least" in slow["message"]
