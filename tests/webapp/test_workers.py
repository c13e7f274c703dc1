"""Device classes in the web app (issue 10 item 2): ``device_class`` in the API (400 on bad values, gpu
only while a GPU worker is live), the designer's choice, and the worker page / ``GET /api/workers/``
read from the workers' heartbeat rows (a silent worker shows as lost; others' work is not named)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from webapp.accounts.services import regenerate_token
from webapp.searches.models import ChildRun, Search
from webapp.workers import services
from webapp.workers.models import WorkerBeat

pytestmark = pytest.mark.django_db
BENCHMARK = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 5}}


def _api(user: Any) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _beat(name: str, queues: list[str], seconds_ago: float = 0.0) -> None:
    services.beat(name, queues, timezone.now())
    WorkerBeat.objects.filter(name=name).update(seen_at=timezone.now() - timedelta(seconds=seconds_ago))


def test_device_class_is_checked_and_stored(user, enqueued) -> None:
    client = _api(user)
    json = "application/json"
    bad = client.post("/api/searches/", {**BENCHMARK, "device_class": "tpu"}, content_type=json)
    assert bad.status_code == 400 and "cpu, gpu or auto" in bad.json()["errors"]["device_class"][0]
    no_gpu = client.post("/api/searches/", {**BENCHMARK, "device_class": "gpu"}, content_type=json)
    assert no_gpu.status_code == 400 and "No GPU worker" in no_gpu.json()["errors"]["device_class"][0]
    assert not Search.objects.exists() and enqueued == []  # nothing stored, nothing sent

    def create(**extra: Any) -> dict[str, Any]:
        response = client.post("/api/searches/", {**BENCHMARK, **extra}, content_type="application/json")
        assert response.status_code == 201, response.json()
        return client.get(f"/api/searches/{response.json()['id']}/").json()

    assert create()["device_class"] == "cpu"  # auto, no GPU worker
    _beat("gpu0@box", ["searches.gpu"])
    gpu = create(device_class="gpu")
    assert (gpu["device_class"], gpu["worker"], gpu["device"]) == ("gpu", None, None)
    assert create()["device_class"] == "gpu" and create(device_class="cpu")["device_class"] == "cpu"


def test_a_gpu_worker_silent_too_long_no_longer_offers_gpu(user, settings) -> None:
    settings.WORKER_LOST_SECONDS = 45
    _beat("gpu0@box", ["searches.gpu"], seconds_ago=60)
    _beat("children1@box", ["children.cpu"])
    assert services.gpu_unavailable_reason().startswith("No GPU worker has been seen in the last 45 s")
    assert services.resolve_device_class(None) == "cpu"


def test_api_workers_lists_queues_class_state_and_load(user, other_user) -> None:
    _beat("searches@box", ["searches.cpu"])
    _beat("gpu0@box", ["searches.gpu"], seconds_ago=120)  # crashed: no goodbye
    _beat("children1@box", ["children.cpu"])
    mine = Search.objects.create(owner=user, name="mine", config={}, status=Search.RUNNING,
                                 lease_owner="box:1:a", worker_name="searches@box")
    theirs = Search.objects.create(owner=other_user, name="secret", config={}, status=Search.RUNNING,
                                   lease_owner="box:2:b", worker_name="gpu0@box", device_class="gpu")
    ChildRun.objects.create(search=theirs, step=0, index=1, job_key="k", job={}, state=ChildRun.RUNNING,
                            worker_name="children1@box")
    body = _api(user).get("/api/workers/").json()
    workers = {w["name"]: w for w in body["workers"]}
    assert set(workers) == {"searches@box", "gpu0@box", "children1@box"}
    assert (workers["searches@box"]["device_class"], workers["searches@box"]["state"]) == ("cpu", "connected")
    assert (workers["gpu0@box"]["device_class"], workers["gpu0@box"]["state"]) == ("gpu", "lost")
    assert workers["searches@box"]["running"] == [{"kind": "search", "search": mine.pk, "name": "mine"}]
    assert workers["gpu0@box"]["running"] == [{"kind": "search", "search": None, "name": None}]
    assert workers["children1@box"]["running"] == [{"kind": "child", "search": None, "step": 0, "index": 1}]
    assert body["gpu_unavailable"] and "secret" not in str(body)
    assert Client().get("/api/workers/").status_code == 401


def test_a_worker_that_stops_cleanly_leaves_the_list(user) -> None:
    _beat("searches@box", ["searches.cpu"])
    services.forget("searches@box")
    assert _api(user).get("/api/workers/").json()["workers"] == []


def test_worker_page_is_in_the_nav_and_shows_the_workers(client, user) -> None:
    _beat("gpu0@box", ["searches.gpu"])
    client.force_login(user)
    html = client.get("/searches/").content.decode()
    assert 'href="/workers/"' in html
    page = client.get("/workers/").content.decode()
    assert 'data-worker="gpu0@box" data-state="connected"' in page and "searches.gpu" in page
    assert "idle" in page and 'id="gpu-note"' not in page
