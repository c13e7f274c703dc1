"""Decoding one uploaded image with Pillow: any mode in, ``RGB`` or ``L`` at a square side out.

Palette, alpha (composited on white, as a browser shows it on a page), CMYK and 16-bit images
are handled; EXIF orientation is applied (phone photos). JPEGs are decoded at a reduced scale
when they are much larger than the target (Pillow's ``draft``), which makes big photos cheap.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


class ImageDecodeError(Exception):
    """A file that is not a usable image; the message is the reason shown in the report."""


def load_pil(
    data: bytes, *, grayscale: bool, max_pixels: int, draft_size: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """Decode ``data`` to an ``L`` or ``RGB`` image; returns it with the original (width, height)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        size = img.size
        if size[0] * size[1] > max_pixels:
            raise ImageDecodeError(
                f"image is {size[0]}x{size[1]} pixels, more than the limit of {max_pixels:,}"
            )
        if size[0] < 1 or size[1] < 1:
            raise ImageDecodeError("image has no pixels")
        if draft_size is not None and img.format == "JPEG":
            img.draft("L" if grayscale else "RGB", (draft_size, draft_size))
        img.load()
        ImageOps.exif_transpose(img, in_place=True)
        return _to_mode(img, grayscale), size
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"image has too many pixels ({exc})") from exc
    except Exception as exc:  # untrusted bytes: any decoder failure is a per-file issue, not a crash
        raise ImageDecodeError(_reason(exc)) from exc


def decode_image(
    data: bytes, *, size: int, grayscale: bool, max_pixels: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """``(H, W)`` (grayscale) or ``(H, W, 3)`` uint8 array resized to ``size``, and the original size."""
    img, original = load_pil(data, grayscale=grayscale, max_pixels=max_pixels, draft_size=size)
    img = resize_square(img, size)
    return np.asarray(img, dtype=np.uint8), original


def resize_square(img: Image.Image, size: int) -> Image.Image:
    """Resize to ``size`` x ``size`` (aspect not kept, as Keras' ``image_dataset_from_directory``).

    Area averaging (``BOX``) when shrinking, bilinear otherwise; both are anti-aliased in Pillow.
    """
    if img.size == (size, size):
        return img
    shrinking = img.width >= size and img.height >= size
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return img.resize((size, size), method)


def _to_mode(img: Image.Image, grayscale: bool) -> Image.Image:
    if img.mode in _HIGH_DEPTH_MODES:
        img = _high_depth_to_l(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    target = "L" if grayscale else "RGB"
    return img if img.mode == target else img.convert(target)


def _high_depth_to_l(img: Image.Image) -> Image.Image:
    """16-bit / 32-bit integer or float grayscale -> 8-bit, scaling instead of clipping."""
    arr = np.asarray(img).astype(np.float64)
    peak = float(arr.max()) if arr.size else 0.0
    if img.mode == "F":
        scale = 255.0 if peak <= 1.0 else 1.0
    else:
        scale = 1.0 / 257.0 if peak > 255 else 1.0
    out = np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(out)  # 2-D uint8 -> mode "L"


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "cannot identify image file" in text:
        return "not a readable image (unknown or corrupt format)"
    return f"unreadable image: {text[:200]}"
