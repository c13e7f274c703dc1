"""Per-kind final-training settings (issue 9): a language search shows, takes and validates its own
knobs (BPTT, hidden size, dropouts, lr, clip), an image knob sent for it is a 400 naming the knob,
and image searches keep theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchcore.data.text import load_text_corpus
from searchcore.training.language_settings import LANGUAGE_ADVANCED, LANGUAGE_FINAL_SCHEMA
from webapp.datasets.models import Dataset
from webapp.searches.models import Search

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"


@pytest.fixture
def corpus(alice) -> Dataset:
    return Dataset.objects.create(owner=alice, name="wiki", kind=Dataset.TEXT, status=Dataset.READY,
                                  report=load_text_corpus(CORPUS).report.to_dict(), size=100)


def _form(dataset: Dataset, **extra: str) -> dict:
    return {"name": "lm", "dataset": str(dataset.pk), "space": "enas-rnn", "controller": "reinforce",
            "evaluator": "shared", "budget_kind": "time", "budget_value": "2", "budget_unit": "m",
            "final_value": "1", "final_unit": "m", "opt-enas-rnn-num_nodes": "4",
            "opt-enas-rnn-hidden_size": "32", "opt-enas-rnn-activations": ["tanh", "relu"], **extra}


def _api(client, body: dict):
    return client.post("/api/searches/", json.dumps(body), content_type="application/json")


def test_the_designer_has_a_language_section_with_the_language_defaults(client_a, corpus):
    html = client_a.get(f"/searches/new?dataset={corpus.pk}").content.decode()
    section = html[html.index('id="final-advanced-language"'):]
    section = section[:section.index("</details>")]
    assert 'data-task-kind="language"' in section
    for name in LANGUAGE_ADVANCED:
        assert f'name="final_language_{name}"' in section, name
    assert 'name="final_language_lr" value="20.0"' in section  # ENAS' lr, not the image 0.05
    assert 'name="final_language_bptt" value="35"' in section
    assert "drop_path" not in section and "cutout" not in section
    assert 'id="final-advanced" data-task-kind="image"' in html  # the image section stays as it was


def test_the_designer_posts_the_language_knobs_and_not_the_image_ones(client_a, corpus,
                                                                       django_capture_on_commit_callbacks):
    form = _form(corpus, final_lr="0.07", final_cutout="8", final_language_lr="5",
                 final_language_bptt="20", final_language_hidden_size="64",
                 final_language_dropout_output="0.3", final_language_grad_clip="0.5")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/searches/new", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    final = Search.objects.get().config["final"]
    got = [final[k] for k in ("lr", "bptt", "hidden_size", "dropout_output", "grad_clip")]
    assert got == [5.0, 20, 64, 0.3, 0.5]
    assert final["weight_decay"] == LANGUAGE_FINAL_SCHEMA["weight_decay"].default
    assert "cutout" not in final and "drop_path" not in final and "aux_head" not in final


def test_a_bad_language_knob_is_shown_at_the_form(client_a, corpus):
    response = client_a.post("/searches/new", _form(corpus, final_language_bptt="1"))
    assert response.status_code == 400 and Search.objects.count() == 0
    assert "Ensure this value is greater than or equal to 2" in response.content.decode()


@pytest.mark.parametrize(("final", "message"), [
    ({"cutout": 8}, "cutout: is a setting of image models; a language model's final training takes"),
    ({"drop_path": 0.2}, "drop_path: is a setting of image models"),
    ({"bptt": 1}, "bptt: must be between 2 and 1000"),
    ({"hidden_size": 4}, "hidden_size: must be between 8 and 2048"),
    ({"dropout_hidden": 1.5}, "dropout_hidden: must be between 0 and 0.95"),
    ({"lr": 0}, "lr: must be between 1e-05 and 100"),
])
def test_the_api_refuses_bad_or_foreign_final_knobs_for_a_language_search(client_a, corpus, final, message):
    response = _api(client_a, {"dataset": corpus.pk, "space": "enas-rnn", "budget": "2m", "final": final})
    assert response.status_code == 400, response.content
    assert any(message in m for m in response.json()["errors"]["final"]), response.json()
    assert Search.objects.count() == 0


def test_the_api_stores_the_language_defaults_and_refuses_language_knobs_for_images(client_a, corpus,
                                                                                      dataset):
    created = _api(client_a, {"dataset": corpus.pk, "space": "enas-rnn", "budget": "2m",
                              "final": {"bptt": 20}})
    assert created.status_code == 201, created.content
    final = Search.objects.get().config["final"]
    assert (final["lr"], final["grad_clip"], final["weight_decay"], final["bptt"]) == (20.0, 0.25, 1.2e-6, 20)
    image = _api(client_a, {"dataset": dataset.pk, "space": "enas-micro", "budget": "2m",
                            "final": {"bptt": 20}})
    assert image.status_code == 400
    assert any("bptt: is a setting of language models; an image model's final training takes" in m
               for m in image.json()["errors"]["final"])
    kept = _api(client_a, {"dataset": dataset.pk, "space": "enas-micro", "budget": "2m"})
    assert kept.status_code == 201
    assert Search.objects.get(pk=kept.json()["id"]).config["final"]["lr"] == 0.05  # image default unchanged
