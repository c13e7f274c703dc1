"""One thumbnail check (``Dataset.thumbnail_path``) behind the page's and the API's thumbnail views."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

BAD_NAMES = ["secret.png", "../secret.png", "cat/../../secret.png", "missing.png", "cat"]


@pytest.fixture
def thumbs(ready_dataset: Any) -> Any:
    (ready_dataset.thumbnails_dir / "cat").mkdir(parents=True)  # a folder, listed: still refused
    (ready_dataset.thumbnails_dir / "0_0.png").write_bytes(b"\x89PNG fake")
    (ready_dataset.thumbnails_dir / "secret.png").write_bytes(b"not listed")
    (ready_dataset.directory / "secret.png").write_bytes(b"outside the folder")
    ready_dataset.report = {"thumbnails": {"cat": ["0_0.png", "missing.png", "../secret.png", "cat"]}}
    ready_dataset.save()
    return ready_dataset


def test_thumbnail_path_only_listed_files_inside_the_folder(thumbs: Any) -> None:
    assert thumbs.thumbnail_path("0_0.png") == (thumbs.thumbnails_dir / "0_0.png").resolve()
    for name in BAD_NAMES:
        assert thumbs.thumbnail_path(name) is None, name


@pytest.mark.parametrize("prefix", ["/api/datasets/{pk}/thumbnails/", "/datasets/{pk}/thumbnails/"])
def test_page_and_api_refuse_the_same_names(thumbs: Any, user: Any, prefix: str) -> None:
    client = Client()
    client.force_login(user)
    url = prefix.format(pk=thumbs.pk)
    ok = client.get(url + "0_0.png")
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"\x89PNG fake"
    for name in BAD_NAMES:
        assert client.get(url + name).status_code == 404, name
