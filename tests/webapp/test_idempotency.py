"""``Idempotency-Key`` on POST /api/searches/ and /api/datasets/ (issue 11 item 5)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.datasets.models import Dataset
from webapp.idempotency.models import IdempotencyKey
from webapp.searches.models import Search

pytestmark = pytest.mark.django_db
SEARCH = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 5}}


def _client(user) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _post(client: Client, body: dict, key: str | None = "k-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/searches/", body, content_type="application/json", headers=headers)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("cat/1.png", b"x")
    return buffer.getvalue()


def test_the_same_key_twice_makes_one_search(user, enqueued) -> None:
    client = _client(user)
    first, again = _post(client, SEARCH), _post(client, SEARCH)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Search.objects.count() == 1
    assert _post(client, SEARCH, key="k-2").status_code == 201 and Search.objects.count() == 2
    assert _post(client, SEARCH, key=None).status_code == 201 and Search.objects.count() == 3


def test_keys_are_per_user(user, other_user, enqueued) -> None:
    mine, theirs = _post(_client(user), SEARCH), _post(_client(other_user), SEARCH)
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]


def test_a_key_reused_for_another_request_is_refused(user, enqueued) -> None:
    client = _client(user)
    assert _post(client, SEARCH).status_code == 201
    other = _post(client, {**SEARCH, "budget": {"max_archs": 6}})
    assert other.status_code == 400 and "different request" in other.json()["errors"]["Idempotency-Key"][0]
    assert Search.objects.count() == 1


def test_a_refused_request_keeps_no_key_so_the_fixed_retry_goes_through(user, enqueued) -> None:
    client = _client(user)
    bad = _post(client, {**SEARCH, "space": "no-such-space"})
    assert bad.status_code == 400 and not IdempotencyKey.objects.exists() and not Search.objects.exists()
    assert _post(client, {**SEARCH, "space": "no-such-space"}).status_code == 400
    assert _post(client, SEARCH).status_code == 201  # the same key, now for a good request


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "caf\u00e9", "a\tb"])
def test_malformed_keys_are_400(user, key: str) -> None:
    response = _post(_client(user), SEARCH, key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    assert not Search.objects.exists()


def test_the_same_key_twice_makes_one_dataset(user, enqueued) -> None:
    client = _client(user)

    def upload():
        return client.post("/api/datasets/", {"name": "tiny", "file": SimpleUploadedFile("t.zip", _zip())},
                           headers={"Idempotency-Key": "upload-1"})

    first, again = upload(), upload()
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
    assert Dataset.objects.count() == 1
