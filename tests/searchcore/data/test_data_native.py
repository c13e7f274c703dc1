"""Native inputs: the report records sizes and modes, and "auto" settings take the dataset's own."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from searchcore.data import inspect_image_archive, load_image_dataset, load_task_data
from searchcore.data.native import (
    describe_input,
    native_format,
    native_input,
    resolve_image_input,
    resolve_input,
)
from searchcore.spaces.base import IMAGE, TaskSpec

GRAY = Path(__file__).resolve().parents[2] / "fixtures" / "gray28_png.zip"


@pytest.mark.parametrize(("sizes", "modes", "expected"), [
    ({"28x28": 10}, {"L": 10}, (28, True)),
    ({"28x28": 9, "32x32": 1}, {"L": 10}, (None, True)),  # mixed sizes: no native side
    ({"64x64": 3}, {"RGB": 3}, (64, False)),
    ({"65x65": 3}, {"RGB": 3}, (None, False)),  # above the cap: searched at 32
    ({"4x4": 3}, {"L": 3}, (None, True)),  # below the smallest side a search takes
    ({"40x30": 2}, {"L": 1, "RGB": 1}, (40, False)),  # one non-square size: its longer side
    ({"28x28": 3}, {"I;16": 1, "1": 1, "LA": 1}, (28, True)),
    ({"28x28": 2}, {"P": 2}, (28, False)),  # a palette counts as colour
    ({"28x28": 2, "30x30": 0}, {"L": 2, "RGB": 0}, (28, True)),  # zero counts are no images
    ({}, {}, (None, False)),
])
def test_native_format_rule(sizes: dict, modes: dict, expected: tuple) -> None:
    assert native_format(sizes, modes) == expected


def test_explicit_settings_win_and_no_native_side_means_32() -> None:
    assert resolve_input(None, None, (28, True)) == (28, True)
    assert resolve_input(16, None, (28, True)) == (16, True)
    assert resolve_input(None, False, (28, True)) == (28, False)
    assert resolve_input(None, None, (None, False)) == (32, False)
    assert describe_input(28, True) == "28×28 grayscale" and describe_input(32, False) == "32×32 colour"


def test_the_report_says_grayscale_28x28() -> None:
    report = inspect_image_archive(GRAY)
    assert report.image_sizes == {"28x28": 24} and report.modes == {"L": 24}
    assert native_input(report) == (28, True)
    assert (report.image_size, report.channels) == (28, 1)  # what a default search decodes at
    stored = report.to_dict()
    assert stored["native"] == {"image_size": 28, "grayscale": True}
    assert native_input(stored) == (28, True)  # as the web app reads Dataset.report


def test_a_report_stored_before_modes_were_recorded_reads_as_colour() -> None:
    assert native_input({"image_sizes": {"28x28": 5}}) == (28, False)


def test_defaults_load_one_channel_at_the_native_side() -> None:
    data = load_image_dataset(GRAY)
    assert data.train.images.shape[1:] == (1, 28, 28)
    assert data.task() == TaskSpec(in_channels=1, image_size=28, num_classes=3)
    assert data.preprocessing()["grayscale"] is True and len(data.mean) == 1
    via_kind = load_task_data(IMAGE, GRAY, image_size=None, grayscale=None, seed=0)
    assert via_kind.task() == data.task()


def test_explicit_values_override_the_native_format() -> None:
    assert load_image_dataset(GRAY, image_size=16, grayscale=False).train.images.shape[1:] == (3, 16, 16)
    assert load_image_dataset(GRAY, grayscale=False).train.images.shape[1:] == (3, 28, 28)
    assert resolve_image_input(GRAY) == (28, True)
    assert resolve_image_input(GRAY, image_size=20) == (20, True)
    assert resolve_image_input("/no/such.zip", image_size=20, grayscale=False) == (20, False)  # not opened


def test_colour_and_mixed_sizes_keep_the_old_default(make_zip, image_bytes) -> None:
    files = {f"a/{i}.png": image_bytes("PNG", (20, 20), "RGB", i) for i in range(4)}
    files |= {f"b/{i}.png": image_bytes("PNG", (24, 24), "RGB", 10 + i) for i in range(4)}
    path = make_zip(files)
    data = load_image_dataset(path)
    assert data.train.images.shape[1:] == (3, 32, 32) and resolve_image_input(path) == (32, False)


def test_an_rgb_file_of_equal_channels_counts_as_colour(make_zip, image_bytes) -> None:
    gray_values = image_bytes("PNG", (12, 12), "L", 1)
    buffer = BytesIO()
    Image.open(BytesIO(gray_values)).convert("RGB").save(buffer, format="PNG")
    files = {f"{c}/{i}.png": buffer.getvalue() for c in "ab" for i in range(3)}
    report = inspect_image_archive(make_zip(files))
    assert report.modes == {"RGB": 6} and native_input(report) == (12, False) and report.channels == 3


def test_sampling_does_not_change_the_resolved_input(make_zip, image_bytes) -> None:
    """One odd-sized image among many: a sample may miss it, the resolution (whole listing) does not."""
    files = {f"{c}/{i}.png": image_bytes("PNG", (16, 16), "L", i) for c in "ab" for i in range(10)}
    files["a/odd.png"] = image_bytes("PNG", (20, 20), "L", 99)
    path = make_zip(files)
    for seed in range(4):
        data = load_image_dataset(path, max_images=4, seed=seed)
        assert (data.image_size, data.channels) == (32, 1)
