"""Issue 11 item 4 on the real stack (Redis, a Celery ``datasets`` worker, uvicorn): a hostile upload
no longer holds the single datasets worker. Before: two 128 KB manifest path cells held it for
164 s (87 s on this box) while another user's upload waited; nothing limited a slow validation."""

from __future__ import annotations

import io
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.stack import LiveStack, live_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
LIMIT_SECONDS = 4


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    with live_stack(extra_env={"DATASET_VALIDATION_SECONDS": str(LIMIT_SECONDS)}, workers=("datasets",)) as s:
        yield s


@pytest.fixture(scope="module")
def tokens(stack: LiveStack) -> tuple[str, str]:
    """(mallory, alice): the hostile uploader and the user waiting behind her."""
    return stack.create_user("mallory", "correct-horse-42"), stack.create_user("alice", "correct-horse-43")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="item4-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _long_cells_zip(path: Path) -> Path:
    cell = "a/" * (127 * 512) + "x.png"
    with zipfile.ZipFile(FIXTURE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [n for n in src.namelist() if n.endswith(".png")]
        for name in names:
            dst.writestr(name, src.read(name))
        rows = [f"{n},{n.split('/')[0]}" for n in names] + [f"{cell},cat", f"{cell},dog"]
        dst.writestr("m.csv", "\n".join(rows))
    return path


def _slow_zip(path: Path, count: int = 40) -> Path:
    """40 images of 6000x6000: decoding them takes well over the limit on any CPU (~0.2-1 s each)."""
    buffer = io.BytesIO()
    Image.new("L", (6000, 6000), 90).save(buffer, "PNG", compress_level=9)
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(count):
            zf.writestr(f"{'ab'[i % 2]}/{i}.png", buffer.getvalue())
    return path


def _upload(stack: LiveStack, token: str, name: str, path: Path) -> int:
    status, body = stack.api(token).upload("/api/datasets/", {"name": name}, "file", path)
    assert status == 201, body
    return int(body["id"])


def _finished(stack: LiveStack, token: str, dataset_id: int, timeout: float = 120) -> dict:
    return stack.api(token).validated(dataset_id, timeout)


def test_long_path_cells_do_not_hold_the_datasets_worker(
    stack: LiveStack, tokens: tuple[str, str], folder: Path
) -> None:
    mallory, alice = tokens
    hostile = _upload(stack, mallory, "cells", _long_cells_zip(folder / "cells.zip"))
    started = time.monotonic()
    waiting = _upload(stack, alice, "tiny", FIXTURE)
    assert _finished(stack, alice, waiting)["status"] == "ready"
    assert time.monotonic() - started < 60  # was > 87 s behind the hostile upload
    body = _finished(stack, mallory, hostile)
    assert body["status"] == "ready"
    assert body["report"]["skipped_counts"] == {"too_long": 2}
    assert {i["row"] for i in body["report"]["skipped"]} == {101, 102}


def test_a_validation_past_the_time_limit_fails_and_frees_the_worker(
    stack: LiveStack, tokens: tuple[str, str], folder: Path
) -> None:
    mallory, alice = tokens
    slow = _upload(stack, mallory, "slow", _slow_zip(folder / "slow.zip"))
    waiting = _upload(stack, alice, "tiny", FIXTURE)
    body = _finished(stack, mallory, slow)
    assert body["status"] == "failed"
    assert f"took longer than the limit of {LIMIT_SECONDS} s" in body["error"]
    assert _finished(stack, alice, waiting, timeout=60)["status"] == "ready"
