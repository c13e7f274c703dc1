"""The per-user search limits on the pages (issue 11 item 1): the designer answers 429 with its form's
message (and ``Retry-After`` for the launch rate); a re-run or controls button says why, nothing stored."""

from __future__ import annotations

from django.contrib.messages import get_messages

from tests.webapp.pages.test_designer_page import _post
from webapp.searches.models import Search


def test_the_designer_refuses_past_the_active_limit_with_its_message(client_a, dataset, search, settings):
    settings.SEARCH_MAX_ACTIVE_PER_USER = 1  # ``search`` is running
    response = client_a.post("/searches/new", _post(dataset))
    assert response.status_code == 429 and "Retry-After" not in response.headers
    html = response.content.decode()
    assert 'id="form-errors"' in html and "You have 1 search queued or running" in html
    assert 'value="d1"' in html  # the form keeps what was typed
    assert Search.objects.count() == 1


def test_the_designer_refuses_past_the_launch_rate_with_retry_after(client_a, dataset, settings):
    settings.SEARCH_LAUNCHES_PER_MINUTE = 1
    assert client_a.post("/searches/new", _post(dataset)).status_code == 302
    response = client_a.post("/searches/new", _post(dataset, name="d2"))
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
    assert "at most 1 per minute" in response.content.decode() and Search.objects.count() == 1


def test_rerun_and_controls_buttons_say_why_when_refused(client_a, search, settings):
    settings.SEARCH_MAX_ACTIVE_PER_USER = 1
    response = client_a.post(f"/searches/{search.pk}/rerun")
    assert response.status_code == 302 and response.url.endswith(f"/searches/{search.pk}/results")
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert notes and notes[0].startswith("Cannot run again: You have 1 search queued or running")
    response = client_a.post(f"/searches/{search.pk}/controls")
    assert response.status_code == 302 and response.url.endswith(f"/searches/{search.pk}/results")
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert notes[-1].startswith("Cannot run the controls: ") and "add 2 runs" in notes[-1]
    assert Search.objects.count() == 1
