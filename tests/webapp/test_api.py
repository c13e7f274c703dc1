from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.searches.events import store_event
from webapp.searches.models import Search, TrainedModel

pytestmark = pytest.mark.django_db


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("cat/1.png", b"x")
    return buffer.getvalue()


def _token_client(user) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _search(owner, dataset, **kw: Any) -> Search:
    return Search.objects.create(owner=owner, dataset=dataset, name="s", config={"space": "enas-micro"}, **kw)


@pytest.fixture
def search(user, ready_dataset) -> Search:
    return _search(user, ready_dataset)


def _endpoints(search: Search) -> list[tuple[str, str]]:
    s, d = search.pk, search.dataset_id
    return [
        ("get", f"/api/datasets/{d}/"),
        ("get", f"/api/searches/{s}/"),
        ("get", f"/api/searches/{s}/events?after=0"),
        ("post", f"/api/searches/{s}/cancel"),
        ("post", f"/api/searches/{s}/rerun"),
        ("get", f"/api/searches/{s}/package"),
    ]


def test_other_users_objects_are_404_on_every_endpoint(search, other_user, enqueued) -> None:
    client = _token_client(other_user)
    for method, url in _endpoints(search):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert response.json() == {"error": "Not found."}
    assert client.get("/api/searches/").json() == {"searches": []}
    assert client.get("/api/datasets/").json() == {"datasets": []}
    search.refresh_from_db()
    assert search.status == Search.QUEUED and not search.cancel_requested and enqueued == []


def test_unauthenticated_requests_get_401(search) -> None:
    client = Client()
    for method, url in [*_endpoints(search), ("get", "/api/searches/"), ("get", "/api/spaces/")]:
        assert getattr(client, method)(url).status_code == 401, url
    bad = Client(headers={"Authorization": "Token not-a-key"})
    assert bad.get("/api/searches/").status_code == 401


def test_token_post_needs_no_csrf_but_a_session_post_does(user, search, enqueued) -> None:
    token_client = _token_client(user)
    token_client.cookies.clear()
    assert token_client.post(f"/api/searches/{search.pk}/rerun").status_code == 201

    session = Client(enforce_csrf_checks=True)
    session.force_login(user)
    response = session.post(f"/api/searches/{search.pk}/cancel")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    secret = "a" * 32  # Django accepts the unmasked cookie secret as the header token
    session.cookies["csrftoken"] = secret
    response = session.post(f"/api/searches/{search.pk}/cancel", headers={"X-CSRFToken": secret})
    assert response.status_code == 200 and response.json()["status"] == Search.CANCELLED


def test_upload_and_read_a_dataset(user, enqueued, django_capture_on_commit_callbacks) -> None:
    client = _token_client(user)
    with django_capture_on_commit_callbacks(execute=True):
        upload = SimpleUploadedFile("t.zip", _zip())
        response = client.post("/api/datasets/", {"name": "tiny", "file": upload})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "validating" and enqueued == [("worker.tasks.validate_dataset", [body["id"]])]
    detail = client.get(f"/api/datasets/{body['id']}/").json()
    assert detail["name"] == "tiny" and detail["report"] == {} and detail["size"] == len(_zip())
    assert [d["id"] for d in client.get("/api/datasets/").json()["datasets"]] == [body["id"]]


def test_upload_errors_are_400_with_fields(user) -> None:
    response = _token_client(user).post("/api/datasets/", {"name": "x"})
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_thumbnails_are_served_to_the_owner_only(user, other_user, ready_dataset) -> None:
    ready_dataset.thumbnails_dir.mkdir(parents=True)
    (ready_dataset.thumbnails_dir / "0_0.png").write_bytes(b"\x89PNG fake")
    (ready_dataset.thumbnails_dir / "secret.png").write_bytes(b"not listed")
    ready_dataset.report = {"thumbnails": {"cat": ["0_0.png"]}}
    ready_dataset.save()
    url = f"/api/datasets/{ready_dataset.pk}/thumbnails/"
    response = _token_client(user).get(url + "0_0.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == b"\x89PNG fake"
    assert _token_client(user).get(url + "secret.png").status_code == 404  # only files the report lists
    assert _token_client(other_user).get(url + "0_0.png").status_code == 404


def test_create_search_201_and_validation_400(user, ready_dataset, enqueued) -> None:
    client = _token_client(user)
    good = {"dataset": ready_dataset.pk, "space": "enas-micro", "space_options": {"num_nodes": 2},
            "controller": "random", "evaluator": "shared", "budget": {"max_epochs": 1}}
    response = client.post("/api/searches/", good, content_type="application/json")
    assert response.status_code == 201
    detail = client.get(f"/api/searches/{response.json()['id']}/").json()
    assert detail["status"] == "queued" and detail["queue_position"] == 1 and detail["has_package"] is False
    assert detail["config"]["space_options"] == {"num_nodes": 2}

    response = client.post("/api/searches/", {**good, "space": "nope"}, content_type="application/json")
    assert response.status_code == 400 and "space" in response.json()["errors"]


def test_create_search_takes_image_size_and_grayscale_or_leaves_them_to_the_dataset(
    user, ready_dataset, enqueued
) -> None:
    client = _token_client(user)
    base = {"dataset": ready_dataset.pk, "space": "enas-micro", "budget": {"max_epochs": 1}}

    def stored(body: dict[str, Any]) -> tuple[Any, Any]:
        response = client.post("/api/searches/", body, content_type="application/json")
        assert response.status_code == 201, response.json()
        config = client.get(f"/api/searches/{response.json()['id']}/").json()["config"]
        return config["image_size"], config["grayscale"]

    assert stored(base) == (None, None)  # "auto": the dataset's native side and channels
    assert stored({**base, "image_size": None, "grayscale": None}) == (None, None)
    assert stored({**base, "image_size": 20, "grayscale": True}) == (20, True)
    response = client.post("/api/searches/", {**base, "image_size": 4, "grayscale": "yes"},
                           content_type="application/json")
    assert response.status_code == 400 and {"image_size", "grayscale"} <= set(response.json()["errors"])


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
def test_bad_json_is_400_never_500(user, body) -> None:
    response = _token_client(user).post("/api/searches/", body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json() or "errors" in response.json()


def test_wrong_method_is_405(user, search) -> None:
    response = _token_client(user).get(f"/api/searches/{search.pk}/cancel")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_events_after_and_limit(user, search) -> None:
    for seq in range(1, 6):
        store_event(search.pk, {"seq": seq, "type": "log", "time": 1.0 + seq, "payload": {"n": seq}})
    client = _token_client(user)
    body = client.get(f"/api/searches/{search.pk}/events?after=2&limit=2").json()
    assert [e["seq"] for e in body["events"]] == [3, 4] and body["last_seq"] == 5
    assert body["events"][0] == {"seq": 3, "type": "log", "time": 4.0, "payload": {"n": 3}}
    assert client.get(f"/api/searches/{search.pk}/events/?after=x").status_code == 400


def test_package_download_streams_the_zip(user, search, media_root) -> None:
    client = _token_client(user)
    assert client.get(f"/api/searches/{search.pk}/package").status_code == 404  # none yet
    path = media_root / "searches" / str(search.pk) / "package.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(_zip())
    TrainedModel.objects.create(search=search, metrics={"test_accuracy": 0.5},
                                package=f"searches/{search.pk}/package.zip")
    response = client.get(f"/api/searches/{search.pk}/package")
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == _zip()
    assert "attachment" in response["Content-Disposition"]
    assert client.get(f"/api/searches/{search.pk}/").json()["has_package"] is True


def test_spaces_catalogue_lists_spaces_with_option_specs(user) -> None:
    body = _token_client(user).get("/api/spaces/").json()
    names = [s["name"] for s in body["spaces"]]
    assert {"enas-micro", "nb201"} <= set(names)
    micro = body["spaces"][names.index("enas-micro")]
    assert {o["name"] for o in micro["option_specs"]} >= {"num_nodes", "ops"}
    assert micro["decisions"] and int(micro["size"]) > 1
    assert {"reinforce", "random"} <= set(body["controllers"]) and "benchmark" in body["evaluators"]
    json.dumps(body)  # JSON all the way down
