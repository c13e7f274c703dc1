"""The per-user storage quota on unpacked dataset bytes (issue 11 item 1), through the real views.

A zip is weighed by the sizes its entries declare (what validation may read), a text corpus by its
size; an upload that would pass ``DATASET_QUOTA_BYTES_PER_USER`` is 413 with a message, and leaves
no row, no file and no task behind. Another user is unaffected."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from webapp.accounts.services import regenerate_token
from webapp.datasets.models import Dataset
from webapp.datasets.quota import used_bytes

pytestmark = pytest.mark.django_db
UNPACKED = 6000  # bytes of zeros in each archive: a few dozen bytes compressed


def _zip(unpacked: int = UNPACKED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cat/1.png", b"\0" * (unpacked // 2))
        archive.writestr("dog/1.png", b"\0" * (unpacked - unpacked // 2))
    return buffer.getvalue()


def _upload(client: Client, data: bytes, name: str = "set.zip", url: str = "/api/datasets/", **extra: Any):
    return client.post(url, {"name": "set", "file": SimpleUploadedFile(name, data)}, **extra)


def _client(user: Any) -> Client:
    return Client(headers={"Authorization": f"Token {regenerate_token(user)}"})


def _files(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file())


@pytest.fixture
def quota(settings: Any) -> int:
    settings.DATASET_QUOTA_BYTES_PER_USER = 10_000
    return settings.DATASET_QUOTA_BYTES_PER_USER


def test_an_upload_past_the_quota_is_413_and_nothing_is_kept(
        quota, user, other_user, media_root, enqueued, django_capture_on_commit_callbacks) -> None:
    client = _client(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = _upload(client, _zip())
    assert first.status_code == 201 and len(_zip()) < 1000
    stored = Dataset.objects.get(pk=first.json()["id"])
    assert (stored.size, stored.unpacked_bytes, used_bytes(user)) == (len(_zip()), UNPACKED, UNPACKED)
    files_before = _files(media_root)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = _upload(client, _zip())  # small on the wire, 6000 bytes unpacked: 12,000 > 10,000
    assert refused.status_code == 413, refused.content
    body = refused.json()
    assert "storage quota" in body["error"] and "Nothing was kept" in body["error"]
    assert "5.9 KB" in body["error"] and "9.8 KB" in body["error"]  # this upload, the quota
    assert body["errors"] == {"file": [body["error"]]}
    assert Dataset.objects.filter(owner=user).count() == 1 and callbacks == []
    assert _files(media_root) == files_before and len(enqueued) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert _upload(_client(other_user), _zip()).status_code == 201
    assert _upload(client, _zip(quota - UNPACKED)).status_code == 201  # exactly up to the quota


def test_text_counts_its_size_and_older_rows_their_upload(quota, user, enqueued) -> None:
    Dataset.objects.create(owner=user, name="old", size=3000)  # from before the count: its upload counts
    assert used_bytes(user) == 3000
    client = _client(user)
    assert _upload(client, b"word " * 1200, "corpus.txt").status_code == 201  # 6000 bytes
    assert used_bytes(user) == 9000
    response = _upload(client, b"word " * 201, "more.txt")
    assert response.status_code == 413 and Dataset.objects.filter(owner=user).count() == 2


def test_the_upload_page_answers_413_with_the_message(quota, user, media_root, enqueued) -> None:
    Dataset.objects.create(owner=user, name="big", size=9_000, unpacked_bytes=9_000)
    client = Client()
    client.force_login(user)
    response = _upload(client, _zip(), url="/datasets/new", headers={"Accept": "application/json"})
    assert response.status_code == 413 and "storage quota" in response.json()["errors"]["file"][0]
    page = _upload(client, _zip(), url="/datasets/new")
    assert page.status_code == 413 and "storage quota" in page.content.decode()
    assert Dataset.objects.filter(owner=user).count() == 1 and _files(media_root) == []


def test_the_account_and_datasets_pages_show_usage_and_quota(quota, user, settings) -> None:
    settings.SEARCH_MAX_ACTIVE_PER_USER = 6
    Dataset.objects.create(owner=user, name="big", size=100, unpacked_bytes=5_000)
    client = Client()
    client.force_login(user)
    for url in ("/datasets/", "/account/"):
        html = client.get(url).content.decode()
        assert 'data-testid="storage-used">4.9\xa0KB<' in html, url
        assert 'data-testid="storage-quota">9.8\xa0KB<' in html and "(50 %)" in html, url
    account = client.get("/account/").content.decode()
    assert 'data-testid="active-searches">0<' in account and "of 6 searches queued or running" in account


def test_deleting_a_dataset_frees_its_quota_unless_in_use(
        quota, user, other_user, media_root, enqueued, django_capture_on_commit_callbacks) -> None:
    from webapp.searches.models import Search

    client = _client(user)
    with django_capture_on_commit_callbacks(execute=True):
        pk = _upload(client, _zip()).json()["id"]
    assert client.delete(f"/api/datasets/{pk}/").json()["errors"]["dataset"] == [
        "It is still being validated; delete it once that is done."]
    Dataset.objects.filter(pk=pk).update(status=Dataset.READY)
    search = Search.objects.create(owner=user, dataset_id=pk, name="s", config={})
    response = client.delete(f"/api/datasets/{pk}/")
    assert response.status_code == 400
    assert "1 search uses this dataset" in response.json()["errors"]["dataset"][0]
    assert _client(other_user).delete(f"/api/datasets/{pk}/").status_code == 404
    assert _upload(client, _zip()).status_code == 413 and _files(media_root)

    search.delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/datasets/{pk}/").json() == {"id": pk, "deleted": True}
    assert not Dataset.objects.filter(pk=pk).exists() and _files(media_root) == []
    assert used_bytes(user) == 0 and _upload(client, _zip()).status_code == 201


def test_the_datasets_page_deletes_or_says_why(quota, user, ready_dataset) -> None:
    from webapp.searches.models import Search

    client = Client()
    client.force_login(user)
    assert 'data-testid="delete-dataset"' in client.get("/datasets/").content.decode()
    Search.objects.create(owner=user, dataset=ready_dataset, name="s", config={})
    page = client.post(f"/datasets/{ready_dataset.pk}/delete", follow=True).content.decode()
    assert "Cannot delete “cifar tiny”: 1 search uses this dataset" in page
    Search.objects.all().delete()
    page = client.post(f"/datasets/{ready_dataset.pk}/delete", follow=True).content.decode()
    assert "Deleted “cifar tiny”." in page and not Dataset.objects.exists()
