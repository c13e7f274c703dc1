"""The comparison page, the controls card of the results and live pages, and the "Run the controls" button."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from webapp.searches.models import Search, TrainedModel
from webapp.searches.services import create_controls

pytestmark = pytest.mark.django_db


def _finish(run: Search, accuracy: float | None, status: str = Search.SUCCEEDED, **metrics) -> None:
    Search.objects.filter(pk=run.pk).update(status=status)
    if accuracy is not None:
        TrainedModel.objects.create(search=run, package="x.zip", metrics={
            "test_accuracy": accuracy, "params": 272_474, "latency_ms": 1.234, **metrics})


def _controls(search: Search) -> tuple[Search, Search]:
    random, baseline = create_controls(search)[0]
    return random, baseline


def _verdict(client: Client, search: Search) -> str:
    page = client.get(f"/searches/{search.pk}/compare")
    assert page.status_code == 200
    found = re.search(r'<p id="verdict"[^>]*><strong>(.*?)</strong>', page.content.decode(), re.S)
    return re.sub(r"\s+", " ", found.group(1))


def test_nas_won(client_a, search) -> None:
    random, baseline = _controls(search)
    for run, accuracy in ((search, 0.712), (random, 0.65), (baseline, 0.70)):
        _finish(run, accuracy)
    assert _verdict(client_a, search) == (
        "NAS won with 71.2 % test accuracy, 1.2 points above the ResNet-20 baseline (70.0 %) and 6.2 points "
        "above the random control (65.0 %).")


def test_nas_lost_is_said_plainly(client_a, search) -> None:
    random, baseline = _controls(search)
    for run, accuracy in ((search, 0.44), (random, 0.47), (baseline, 0.82)):
        _finish(run, accuracy)
    html = client_a.get(f"/searches/{search.pk}/compare").content.decode()
    assert _verdict(client_a, search) == (
        "NAS lost: the ResNet-20 baseline won with 82.0 % test accuracy, 38.0 points above NAS (44.0 %); "
        "the random control reached 47.0 %.")
    assert 'http-equiv="refresh"' not in html  # every run has finished
    rows = re.findall(r'<tr data-role="(\w+)"( class="winner")?>', html)
    assert rows == [("nas", ""), ("random", ""), ("baseline", ' class="winner"')]
    assert "272,474" in html and "1.23" in html and f'href="/searches/{baseline.pk}/results"' in html


def test_a_pending_control_is_named_and_nothing_is_decided(client_a, search) -> None:
    random, baseline = _controls(search)
    _finish(search, 0.61)
    _finish(baseline, 0.64)  # the random control is still queued
    assert _verdict(client_a, search) == (
        "So far NAS trails: the ResNet-20 baseline leads with 64.0 % test accuracy, 3.0 points above NAS "
        "(61.0 %). The random control has not finished yet (queued).")
    html = client_a.get(f"/searches/{search.pk}/compare").content.decode()
    assert 'http-equiv="refresh"' in html and 'class="winner"' not in html


def test_nas_still_running_and_a_failed_control(client_a, search) -> None:
    random, baseline = _controls(search)  # the search fixture is running
    _finish(random, None, Search.FAILED)
    _finish(baseline, 0.8)
    assert _verdict(client_a, search) == (
        "The ResNet-20 baseline reached 80.0 % test accuracy. The NAS search has not finished yet (running). "
        "The random control failed without a model.")


def test_the_results_page_offers_the_button_then_shows_the_verdict(client_a, search) -> None:
    results = f"/searches/{search.pk}/results"
    page = client_a.get(results).content.decode()
    assert 'id="run-controls"' in page and f'action="/searches/{search.pk}/controls"' in page
    live = client_a.get(f"/searches/{search.pk}/").content.decode()
    assert 'id="run-controls"' in live  # the live page has the button too
    response = client_a.post(f"/searches/{search.pk}/controls")
    assert response.status_code == 302 and response["Location"] == f"/searches/{search.pk}/compare"
    assert client_a.post(f"/searches/{search.pk}/controls")["Location"] == f"/searches/{search.pk}/compare"
    assert search.controls.count() == 2 and Search.objects.count() == 3  # never a second set
    page = client_a.get(results).content.decode()
    assert 'id="run-controls"' not in page and 'id="comparison-sentence"' in page
    assert f'href="/searches/{search.pk}/compare"' in page and "has not finished yet" in page
    control = search.controls.first()
    control_page = client_a.get(f"/searches/{control.pk}/results").content.decode()
    assert f'href="/searches/{search.pk}/compare"' in control_page  # a control links to its search's


def test_another_user_gets_404_and_creates_nothing(search, bob) -> None:
    client = Client()
    client.force_login(bob)
    assert client.post(f"/searches/{search.pk}/controls").status_code == 404
    assert client.get(f"/searches/{search.pk}/compare").status_code == 404
    assert not search.controls.exists()
    assert Client().get(f"/searches/{search.pk}/compare").status_code == 302  # to the login page


def test_a_search_that_cannot_have_controls_says_why(client_a, search) -> None:
    epochs_only = {**search.config, "budget_seconds": None, "max_epochs": 3}
    Search.objects.filter(pk=search.pk).update(config=epochs_only)
    page = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="run-controls"' not in page and "give the search and final training time budgets" in page
    response = client_a.post(f"/searches/{search.pk}/controls", follow=True)
    assert "Cannot run the controls" in response.content.decode() and not search.controls.exists()
