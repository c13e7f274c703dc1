"""Text corpora through upload + validation (issue 9 item 1): the three accepted layouts become
``ready`` with the report the dataset page shows; each bad input fails with a reason that names it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from webapp.datasets.models import Dataset
from webapp.datasets.services import create_dataset
from worker.datasets import validate_dataset

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"


def _validated(user, filename: str, content: bytes) -> Dataset:
    dataset = create_dataset(user, "", SimpleUploadedFile(filename, content))
    validate_dataset(dataset.pk)
    dataset.refresh_from_db()
    return dataset


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_one_text_file_is_split_80_10_10_with_the_full_report(user, enqueued) -> None:
    dataset = _validated(user, "wiki.txt", CORPUS.read_bytes())
    assert dataset.status == Dataset.READY and dataset.kind == Dataset.TEXT, dataset.error
    report = dataset.report
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    assert sum(report["lines"].values()) == len(lines)
    assert report["lines"]["train"] == round(0.8 * len(lines))
    assert report["tokens"]["train"] > report["tokens"]["valid"] > 0
    assert report["vocab_cap"] == 10_000 and report["vocab_size"] == report["words_seen"] > 100
    assert 0 < report["oov_rate"]["valid"] < 1
    assert report["oov_rate"]["valid"] == round(report["oov_tokens"]["valid"] / report["tokens"]["valid"], 4)
    longest = report["longest_lines"]
    assert len(longest) == 5 and longest[0]["chars"] == max(len(line) for line in lines)


def test_a_zip_of_train_valid_test_is_detected_as_text(user, enqueued) -> None:
    lines = CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)  # 50 lines
    files = {"ptb/train.txt": "".join(lines[:30]), "ptb/valid.txt": "".join(lines[30:40]),
             "ptb/test.txt": "".join(lines[40:50])}
    dataset = _validated(user, "ptb.zip", _zip({k: v.encode() for k, v in files.items()}))
    assert dataset.kind == Dataset.TEXT and dataset.status == Dataset.READY, dataset.error
    assert dataset.report["source"] == "zip" and dataset.report["lines"] == {"train": 30, "valid": 10,
                                                                             "test": 10}
    assert dataset.unpacked_bytes >= sum(len(v.encode()) for v in files.values())


def test_the_vocabulary_cap_maps_rare_words_to_unk(user, enqueued, settings) -> None:
    words = " ".join(f"w{i}" for i in range(12_000))
    text = "".join(f"{words}\n" for _ in range(10)).encode()
    dataset = _validated(user, "wide.txt", text)
    assert dataset.status == Dataset.READY, dataset.error
    report = dataset.report
    assert report["words_seen"] == 12_001 and report["vocab_size"] == 10_000
    # 9,998 words + <eos> + <unk>: each of the 8 train lines has 2,002 words past the cap
    assert report["unk_tokens"]["train"] == 8 * 2_002


@pytest.mark.parametrize(
    ("filename", "content", "words"),
    [
        ("binary.txt", b"\x00\x01\x02 some words\n" * 50, "binary"),
        ("latin1.txt", "café au lait\n".encode("latin-1") * 50, "not UTF-8"),
        ("huge_line.txt", b"word " * 30_000 + b"\nsecond line\nthird\n", "characters (the limit is 100,000)"),
        ("one_line.txt", b"just one line of words", "at least 3"),
        ("blank_valid.zip", None, "the valid text has no words"),
        ("missing.zip", None, "missing: test.txt"),
    ],
)
def test_bad_text_fails_with_a_clear_reason(user, enqueued, filename, content, words) -> None:
    if filename == "blank_valid.zip":
        content = _zip({"train.txt": b"a b c\n", "valid.txt": b"\n \n", "test.txt": b"a b\n"})
    elif filename == "missing.zip":
        content = _zip({"train.txt": b"a b c\n", "valid.txt": b"a\n"})
    dataset = _validated(user, filename, content)
    assert dataset.kind == Dataset.TEXT
    assert dataset.status == Dataset.FAILED and words in dataset.error, dataset.error
    assert dataset.path.is_file()  # the upload is kept: the user can see what was sent and delete it
