"""Issue 11 item 8: errors shown to users carry no server paths (the logs keep the full text)."""

from __future__ import annotations

import pytest

from webapp.redaction import redact_paths


@pytest.mark.parametrize(("text", "shown"), [
    ("Could not read the upload (BadZipFile: /work/main/var/media/datasets/7/cats.zip is truncated)",
     "Could not read the upload (BadZipFile: …/cats.zip is truncated)"),
    ("[Errno 2] No such file or directory: '/tmp/nas-studio-stack-x/media/datasets/3/'",
     "[Errno 2] No such file or directory: '…/3'"),
    ("see http://127.0.0.1:8000/api/datasets/ and /api/searches/",
     "see http://127.0.0.1:8000/api/datasets/ and /api/searches/"),
    ("budget 1/2 of 10 s", "budget 1/2 of 10 s"),
])
def test_paths_are_cut_to_their_last_part(text: str, shown: str) -> None:
    assert redact_paths(text) == shown


@pytest.mark.django_db
def test_a_failed_dataset_stores_no_path(user, media_root) -> None:
    from webapp.datasets.models import Dataset
    from webapp.datasets.services import mark_failed

    dataset = Dataset.objects.create(owner=user, name="d", kind=Dataset.IMAGE, size=1)
    mark_failed(dataset, f"Could not read the upload (OSError: {media_root}/datasets/1/d.zip)")
    error = Dataset.objects.get(pk=dataset.pk).error
    assert str(media_root) not in error and error.endswith("…/d.zip)")
