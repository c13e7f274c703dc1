"""Live and results pages of a language search (issue 9 item 5): perplexity curves instead of accuracy,
the cell drawn as its DAG with activations, test perplexity and sample generations on the results page,
and the package download."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import torch
from django.conf import settings

from searchcore.spaces import create_space
from tests.webapp.pages.conftest import add_event
from webapp.searches.models import Search, TrainedModel

OPTIONS = {"num_nodes": 4, "hidden_size": 16}
HISTORY = [{"epoch": 1, "epochs": 2, "loss": 6.1, "accuracy": 0.05, "valid_accuracy": 0.06, "lr": 20.0,
            "perplexity": 445.9, "valid_perplexity": 390.2},
           {"epoch": 2, "epochs": 2, "loss": 5.2, "accuracy": 0.09, "valid_accuracy": 0.1, "lr": 10.0,
            "perplexity": 181.3, "valid_perplexity": 240.7}]
SAMPLES = [{"prompt": "The game 's", "continuation": "battle system was praised", "unknown": []},
           {"prompt": "It was released", "continuation": "", "unknown": []}]


def _arch() -> dict:
    space = create_space("enas-rnn", **OPTIONS)
    return {"space": "enas-rnn", **space.arch_to_json(space.sample_random(torch.Generator().manual_seed(3)))}


@pytest.fixture
def lm_search(alice, dataset) -> Search:
    config = {"space": "enas-rnn", "space_options": OPTIONS, "controller": "reinforce", "evaluator": "shared",
              "budget_seconds": 60.0, "max_archs": None, "max_epochs": None,
              "final": {"budget_seconds": 30.0, "epochs": None}}
    arch = _arch()
    search = Search.objects.create(owner=alice, dataset=dataset, name="lm", config=config,
                                   status=Search.SUCCEEDED, progress=1.0, phase="done",
                                   best={"architecture": arch, "reward": 0.31})
    add_event(search, 1, "best", {"architecture": arch, "reward": 0.31})
    for seq, row in enumerate(HISTORY, 2):
        fields = ("epoch", "epochs", "loss", "accuracy", "valid_accuracy", "lr", "valid_perplexity")
        add_event(search, seq, "final_epoch", {k: row[k] for k in fields})
    package = Path(settings.MEDIA_ROOT) / "searches" / str(search.pk) / "package.zip"
    package.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("predict.py", "print('next words')\n")
    TrainedModel.objects.create(search=search, package=package.relative_to(settings.MEDIA_ROOT).as_posix(),
                                metrics={"test_perplexity": 251.37,
                                         "test_accuracy": 0.1, "test_tokens": 215, "vocab_size": 576,
                                         "history": HISTORY, "samples": SAMPLES})
    return search


def test_the_results_page_shows_perplexity_samples_and_the_download(client_a, lm_search):
    html = client_a.get(f"/searches/{lm_search.pk}/results").content.decode()
    assert re.search(r'id="test-perplexity">251\.4<', html)
    assert re.search(r'id="valid-perplexity">240\.7<', html)  # the best epoch's, from history
    assert 'id="controls-card"' in html and 'id="transfer-card"' not in html  # an LSTM baseline, no transfer
    assert 'id="test-accuracy"' not in html and "Confusion matrix" not in html
    assert 'id="per-class"' not in html
    samples = html.split('id="samples"')[1].split("</ul>")[0]
    assert "<strong>The game &#x27;s</strong> battle system was praised" in samples
    assert "<strong>It was released</strong> (ends the line)" in samples
    curve = json.loads(re.search(r'id="final-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert [row["valid_perplexity"] for row in curve] == [390.2, 240.7]  # from the stored history
    assert 'id="chart-final" class="confusion" data-task-kind="language"' in html
    download = client_a.get(re.search(r'id="download" href="([^"]+)"', html).group(1))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"PK")
    assert f'src="/searches/{lm_search.pk}/graph.svg?which=best&amp;cell=0"' in html


def test_the_best_cell_is_drawn_as_its_dag_with_activations(client_a, lm_search):
    response = client_a.get(f"/searches/{lm_search.pk}/graph.svg", {"which": "best", "cell": 0})
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    for node in lm_search.best["architecture"]["nodes"]:
        assert node["act"] in svg


def test_the_live_page_draws_perplexity_for_a_language_search(client_a, lm_search, search):
    html = client_a.get(f"/searches/{lm_search.pk}/").content.decode()
    assert 'data-task-kind="language"' in html
    assert "Shared weights: train and valid perplexity per epoch" in html
    assert "Final training: perplexity" in html
    assert '<p id="noise-flag" class="alert warn small" hidden></p>' in html  # filled by live.js (noiseText)
    assert 'id="controls-card"' in html and "LSTM baseline" in html  # the language controls
    image = client_a.get(f"/searches/{search.pk}/").content.decode()
    assert 'data-task-kind="image"' in image and "Child network: loss and accuracy per epoch" in image
    assert 'id="noise-flag"' not in image


def test_an_image_search_keeps_accuracy_and_the_confusion_matrix(client_a, search):
    search.status = Search.SUCCEEDED
    search.save()
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="test-accuracy"' in html and "Confusion matrix" in html and 'id="samples"' not in html
    assert 'id="controls-card"' in html and 'id="transfer-card"' in html


def test_a_language_search_offers_its_controls_an_lstm_baseline(client_a, lm_search):
    from webapp.searches.controls import control_problem

    assert control_problem(lm_search) is None
    html = client_a.get(f"/searches/{lm_search.pk}/results").content.decode()
    assert 'id="run-controls"' in html and "LSTM baseline" in html
