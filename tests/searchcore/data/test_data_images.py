"""Decoding: modes (grayscale, alpha, palette, CMYK, 16-bit), resizing, format mixes, sizes report."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from searchcore.data import load_image_dataset
from searchcore.data.images import ImageDecodeError, decode_image

LIMIT = 10_000_000


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


def test_rgba_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[:2, :, 3] = 255  # top half opaque, bottom half fully transparent
    out, size = decode_image(encode(Image.fromarray(rgba)), size=4, grayscale=False, max_pixels=LIMIT)
    assert size == (4, 4)
    assert out.shape == (4, 4, 3)
    assert (out[:2] == (10, 20, 30)).all()
    assert (out[2:] == 255).all()


def test_palette_with_transparency_and_plain_palette():
    rgb = np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    pal = Image.fromarray(rgb).convert("P")
    plain, _ = decode_image(encode(pal), size=6, grayscale=False, max_pixels=LIMIT)
    assert (plain == np.asarray(pal.convert("RGB"))).all()
    pal.info["transparency"] = 0
    transparent, _ = decode_image(encode(pal), size=6, grayscale=False, max_pixels=LIMIT)
    index = np.asarray(pal)
    assert (transparent[index == 0] == 255).all()


def test_cmyk_jpeg_decodes_to_rgb():
    rgb = np.full((8, 8, 3), (200, 30, 30), dtype=np.uint8)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    out, _ = decode_image(encode(cmyk, "JPEG"), size=8, grayscale=False, max_pixels=LIMIT)
    assert out.shape == (8, 8, 3)
    assert abs(int(out[..., 0].mean()) - 200) < 12 and out[..., 1].mean() < 60


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    values = np.array([[0, 257 * 64], [257 * 128, 65535]], dtype=np.uint16)
    img = Image.fromarray(values)
    assert img.mode.startswith("I;16")
    out, _ = decode_image(encode(img), size=2, grayscale=True, max_pixels=LIMIT)
    assert out.tolist() == [[0, 64], [128, 255]]


def test_grayscale_input_as_rgb_replicates_the_channel():
    gray = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    out, _ = decode_image(encode(Image.fromarray(gray)), size=4, grayscale=False, max_pixels=LIMIT)
    assert (out == gray[..., None]).all()


def test_downscale_is_area_average():
    big = np.zeros((4, 4), dtype=np.uint8)
    big[:2, :2] = 200  # top-left 2x2 block bright
    out, size = decode_image(encode(Image.fromarray(big)), size=2, grayscale=True, max_pixels=LIMIT)
    assert size == (4, 4)
    assert out.tolist() == [[200, 0], [0, 0]]


def test_large_jpeg_is_drafted_and_resized():
    rgb = np.zeros((480, 640, 3), dtype=np.uint8)
    rgb[:, :320] = 255
    out, size = decode_image(encode(Image.fromarray(rgb), "JPEG"), size=32, grayscale=False, max_pixels=LIMIT)
    assert size == (640, 480) and out.shape == (32, 32, 3)
    assert out[:, :14].min() > 230 and out[:, 18:].max() < 25


def test_pixel_cap_and_garbage_raise_decode_errors():
    with pytest.raises(ImageDecodeError, match="more than the limit"):
        decode_image(encode(Image.new("RGB", (100, 100))), size=8, grayscale=False, max_pixels=9999)
    with pytest.raises(ImageDecodeError, match="not a readable image"):
        decode_image(b"GIF89a nonsense", size=8, grayscale=False, max_pixels=LIMIT)


def test_format_and_mode_mix_loads_with_size_warning(make_zip, image_bytes):
    files = {
        "cat/a.png": image_bytes("PNG", (32, 32), "RGB", 1),
        "cat/b.jpg": image_bytes("JPEG", (64, 48), "RGB", 2),
        "cat/c.png": image_bytes("PNG", (32, 32), "RGBA", 3),
        "dog/a.png": image_bytes("PNG", (32, 32), "L", 4),
        "dog/b.png": image_bytes("PNG", (32, 32), "P", 5),
        "dog/c.jpeg": image_bytes("JPEG", (32, 32), "L", 6),
        "dog/d.PNG": image_bytes("PNG", (20, 20), "I;16", 7),
    }
    ds = load_image_dataset(make_zip(files), image_size=16)
    assert ds.report.image_sizes == {"32x32": 5, "64x48": 1, "20x20": 1}
    assert ds.report.skipped == []
    assert ds.train.images.shape[1:] == (3, 16, 16)
    assert any("3 different sizes" in w and "resized to 16x16" in w for w in ds.report.warnings)


def test_grayscale_dataset_has_one_channel(make_zip, class_files):
    ds = load_image_dataset(make_zip(class_files({"a": 5, "b": 5})), image_size=8, grayscale=True)
    assert ds.channels == 1 and ds.train.images.shape[1:] == (1, 8, 8)
    assert len(ds.mean) == 1 and len(ds.std) == 1
    assert ds.task().in_channels == 1
