"""The designer's device class (issue 10 item 2): gpu is offered only while a GPU worker is live (else
disabled, with the reason), and the choice reaches the search."""

from __future__ import annotations

import re

from django.utils import timezone

from tests.webapp.pages.test_designer_page import _post
from webapp.searches.models import Search
from webapp.workers import services


def _gpu_input(html: str) -> str:
    found = re.search(r'<input[^>]*id="device-gpu"[^>]*>', html)
    assert found, "no gpu choice"
    return found.group(0)


def test_gpu_is_disabled_with_the_reason_until_a_gpu_worker_is_seen(client_a, dataset) -> None:
    html = client_a.get("/searches/new").content.decode()
    assert "disabled" in _gpu_input(html)
    assert "GPU is unavailable: No GPU worker has been seen" in html and "Automatic (now: cpu)" in html
    services.beat("gpu0@box", ["searches.gpu"], timezone.now())
    html = client_a.get("/searches/new").content.decode()
    assert "GPU is unavailable" not in html and "Automatic (now: gpu)" in html
    assert "disabled" not in _gpu_input(html)


def test_the_chosen_class_reaches_the_search(client_a, dataset, django_capture_on_commit_callbacks) -> None:
    services.beat("gpu0@box", ["searches.gpu"], timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/searches/new", _post(dataset, device_class="gpu"))
    assert response.status_code == 302 and Search.objects.get().device_class == "gpu"


def test_gpu_without_a_gpu_worker_is_refused_beside_the_form(client_a, dataset) -> None:
    response = client_a.post("/searches/new", _post(dataset, device_class="gpu"))
    assert response.status_code == 400 and not Search.objects.exists()
    assert "gpu cannot be chosen now" in response.content.decode()
