"""The designer with a text corpus (issue 9): enas-rnn and its options on the page, the dataset's
kind checked (instantly by designer_checks.js, again by the server), the preview draws the cell's
DAG, the estimate measures the corpus's own vocabulary and the plan says it does not plan language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from searchcore.data.tasks import DEFAULT_SEQ_LEN
from searchcore.data.text import load_text_corpus
from searchcore.spaces import space_class
from webapp.datasets.models import Dataset
from webapp.searches.models import Search

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"
TINY = {"num_nodes": 3, "hidden_size": 16}


@pytest.fixture
def corpus(alice) -> Dataset:
    return Dataset.objects.create(owner=alice, name="wiki", kind=Dataset.TEXT, status=Dataset.READY,
                                  report=load_text_corpus(CORPUS).report.to_dict(), size=100)


def _form(dataset: Dataset, space: str = "enas-rnn") -> dict:
    return {"name": "lm", "dataset": str(dataset.pk), "space": space, "controller": "reinforce",
            "evaluator": "shared", "budget_kind": "time", "budget_value": "2", "budget_unit": "m",
            "final_value": "1", "final_unit": "m", "opt-enas-rnn-num_nodes": "4",
            "opt-enas-rnn-hidden_size": "32", "opt-enas-rnn-activations": ["tanh", "relu"],
            "opt-enas-micro-ops": ["sep3"], "opt-enas-micro-num_nodes": "2"}


def _post(client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_page_offers_enas_rnn_with_its_options_and_the_corpus_kind(client_a, corpus):
    html = client_a.get(f"/searches/new?dataset={corpus.pk}").content.decode()
    fieldset = html[html.index('data-space="enas-rnn"'):]
    for option in (s.name for s in space_class("enas-rnn").option_specs()):
        assert f'id="field-opt-enas-rnn-{option}"' in fieldset, option
    data = json.loads(re.search(r'id="designer-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["datasets"][str(corpus.pk)]["task_kind"] == "language"
    assert data["datasets"][str(corpus.pk)]["train"] == corpus.report["tokens"]["train"] // DEFAULT_SEQ_LEN
    assert data["compatibility"]["enas-rnn"]["task_kind"] == "language"


def test_a_language_search_is_created_and_an_image_space_on_text_is_refused(client_a, corpus,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/searches/new", _form(corpus))
    search = Search.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert search.config["space"] == "enas-rnn"
    assert sorted(search.config["space_options"]["activations"]) == ["relu", "tanh"]
    refused = client_a.post("/searches/new", _form(corpus, space="enas-micro"))
    assert refused.status_code == 400 and Search.objects.count() == 1
    assert "this dataset is for language modelling" in refused.content.decode()


def test_the_preview_draws_the_cell_dag_with_its_activations(client_a):
    response = _post(client_a, "/designer/preview", {"space": "enas-rnn", "options": {"num_nodes": 4}})
    assert response.status_code == 200
    body = response.json()
    nodes = body["architecture"]["nodes"]
    assert len(nodes) == 4 and len(body["cell_svgs"]) == 1
    svg = body["cell_svgs"][0]
    assert svg.startswith("<svg") and all(node["act"] in svg for node in nodes)


def test_the_estimate_measures_the_corpus_vocabulary_in_sequences(client_a, corpus):
    response = _post(client_a, "/designer/estimate", {"space": "enas-rnn", "options": TINY,
                                                      "dataset": corpus.pk, "batch_size": 4})
    assert response.status_code == 200, response.content
    body = response.json()
    sequences = corpus.report["tokens"]["train"] // DEFAULT_SEQ_LEN
    assert body["train_size"] == sequences and body["seconds_per_epoch"] > 0
    assert f"sequences of {DEFAULT_SEQ_LEN} tokens" in body["basis"]
    assert f"scaled to {-(-sequences // 4)} steps of 4" in body["basis"]


def test_the_plan_measures_the_language_search_and_final_training_on_the_corpus(client_a, corpus):
    """Issue 9: the designer shows what a language budget buys before Start (planning.language)."""
    response = _post(client_a, "/designer/plan", {"space": "enas-rnn", "options": TINY, "dataset": corpus.pk,
                                                  "search_seconds": 60, "final_seconds": 60})
    assert response.status_code == 200, response.content
    body = response.json()
    tokens = corpus.report["tokens"]["train"] // DEFAULT_SEQ_LEN * DEFAULT_SEQ_LEN
    assert body["train_tokens"] == tokens and "note" not in body
    search, final = body["search"], body["final"]
    assert search["space_options"] == {"hidden_size": 16} and search["batch_size"] == 3  # user's size
    assert search["message"].startswith("This budget buys") and "BPTT 35" in search["message"]
    assert final["message"].startswith("Final training gets") and final["seconds_per_epoch"] > 0
    tiny = _post(client_a, "/designer/plan", {"space": "enas-rnn", "options": TINY, "search_seconds": 1,
                                              "final_seconds": 1}).json()  # no corpus: WikiText-2-like
    assert tiny["search"]["meaningful"] is False and "Give the search at least" in tiny["search"]["message"]
    assert tiny["note"].startswith("No corpus chosen: assumes 2,000,000 training tokens")


def test_the_plan_of_a_scratch_search_costs_language_children_on_the_corpus(client_a, corpus):
    """NAS-RL's protocol on text (nas-rl-rnn + scratch): the designer plans the children as the run will
    (planning.children over the corpus's sequences), not a note that it cannot."""
    response = _post(client_a, "/designer/plan", {
        "space": "nas-rl-rnn", "options": {"leaves": 2, "hidden_size": 16}, "dataset": corpus.pk,
        "evaluator": "scratch", "search_seconds": 120, "final_seconds": 60})
    assert response.status_code == 200, response.content
    body = response.json()
    assert "note" not in body and body["search"] is not None and body["final"] is not None
    search = body["search"]
    assert search["space_options"]["hidden_size"] == 16 and search["child_seconds"] > 0  # the user's size
    assert search["controller_steps"] >= 1 and search["message"]
