from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from webapp.datasets.models import Dataset
from webapp.datasets.services import create_dataset

pytestmark = pytest.mark.django_db
FIXTURE_ZIP = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("cat/1.png", b"not really a png")
    return buffer.getvalue()


def test_upload_is_stored_under_the_dataset_folder_and_validated_after_commit(
    user, enqueued, media_root, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dataset = create_dataset(user, "tiny", SimpleUploadedFile("tiny.zip", _zip_bytes()))
        assert enqueued == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert enqueued == [("worker.tasks.validate_dataset", [dataset.pk])]
    assert dataset.status == Dataset.VALIDATING and dataset.kind == Dataset.IMAGE
    assert dataset.path == media_root / "datasets" / str(dataset.pk) / "tiny.zip"
    assert dataset.path.read_bytes() == _zip_bytes()
    assert dataset.size == len(_zip_bytes())


def test_large_upload_is_moved_from_its_temporary_file_not_read(user, enqueued, media_root) -> None:
    upload = TemporaryUploadedFile("cifar.zip", "application/zip", FIXTURE_ZIP.stat().st_size, None)
    upload.write(FIXTURE_ZIP.read_bytes())
    upload.seek(0)
    temp_path = Path(upload.temporary_file_path())
    dataset = create_dataset(user, "", upload)
    assert not temp_path.exists()  # moved, not copied
    assert dataset.path.read_bytes() == FIXTURE_ZIP.read_bytes()
    assert dataset.name == "cifar"  # defaults to the file name
    upload.close()  # Django closes it after the request; must not fail once moved


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("data.tar", b"x", "Upload a .zip"),
        ("data.zip", b"", "empty"),
        ("data.zip", b"definitely not a zip", "not a readable zip"),
    ],
)
def test_bad_uploads_are_refused_with_a_field_error(user, enqueued, filename, content, message) -> None:
    with pytest.raises(ValidationError) as err:
        create_dataset(user, "x", SimpleUploadedFile(filename, content))
    assert message in " ".join(err.value.message_dict["file"])
    assert not Dataset.objects.exists() and enqueued == []


def test_missing_file_and_size_limit(user, enqueued, settings) -> None:
    with pytest.raises(ValidationError) as err:
        create_dataset(user, "x", None)
    assert "file" in err.value.message_dict
    settings.DATASET_MAX_UPLOAD_BYTES = 10
    with pytest.raises(ValidationError) as err:
        create_dataset(user, "x", SimpleUploadedFile("big.zip", _zip_bytes()))
    assert "larger than" in err.value.message_dict["file"][0]


def test_text_corpus_kind_from_the_extension(user, enqueued) -> None:
    dataset = create_dataset(user, "wiki", SimpleUploadedFile("wiki.txt", b"hello world\n"))
    assert dataset.kind == Dataset.TEXT


def test_queries_are_scoped_to_the_owner(user, other_user, enqueued) -> None:
    mine = create_dataset(user, "mine", SimpleUploadedFile("a.zip", _zip_bytes()))
    create_dataset(other_user, "theirs", SimpleUploadedFile("b.zip", _zip_bytes()))
    assert list(Dataset.objects.for_owner(user)) == [mine]
    from django.contrib.auth.models import AnonymousUser

    assert not Dataset.objects.for_owner(AnonymousUser()).exists()
