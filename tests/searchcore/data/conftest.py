"""Builders for the small upload zips the data tests make in ``tmp_path`` with Pillow."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

FIXTURE_ZIP = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"


def _image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (32, 32), mode: str = "RGB", seed: int = 0
) -> bytes:
    """Random-pixel image of ``size`` (width, height) encoded as ``fmt`` in ``mode``."""
    rng = np.random.default_rng(seed)
    w, h = size
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    elif mode in ("L", "RGBA"):
        shape = (h, w) if mode == "L" else (h, w, 4)
        img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
    else:
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode)
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


def _write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)  # a ZipInfo keeps names like "../x" as they are
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def _class_files(
    counts: dict[str, int], fmt: str = "PNG", prefix: str = "", size: int = 8
) -> dict[str, bytes]:
    """``{prefix + cls/i.png: bytes}`` with ``counts[cls]`` distinct images per class."""
    ext = "jpg" if fmt == "JPEG" else fmt.lower()
    files = {}
    for c, (label, n) in enumerate(sorted(counts.items())):
        for i in range(n):
            files[f"{prefix}{label}/{i:04d}.{ext}"] = _image_bytes(fmt, (size, size), seed=1000 * c + i)
    return files


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def build(files: dict[str, bytes], name: str | None = None) -> Path:
        return _write_zip(tmp_path / (name or f"upload{next(counter)}.zip"), files)

    return build


@pytest.fixture
def image_bytes() -> Callable[..., bytes]:
    return _image_bytes


@pytest.fixture
def class_files() -> Callable[..., dict[str, bytes]]:
    return _class_files


@pytest.fixture(scope="session")
def tiny_zip() -> Path:
    """The committed fixture: 100 CIFAR-10 PNGs, 10 per class, class folders."""
    return FIXTURE_ZIP
