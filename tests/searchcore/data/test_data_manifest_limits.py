"""Issue 11 item 4: hostile manifests are checked in linear time, within caps, with per-row reasons.

Probes before the fix (this 2-core box): two 128 KB path cells took 87 s (quadratic suffix joins);
10^6 rows took 11 s and made a 100 MB report; an unbalanced quote swallowed the rows after it.
"""

from __future__ import annotations

import json
import time

import pytest

from searchcore.data import ArchiveLimits, DatasetError, inspect_image_archive
from searchcore.data.paths import PathIndex


def images(image_bytes, n: int = 20) -> dict[str, bytes]:
    return {f"img/{i:03d}.png": image_bytes(size=(8, 8), seed=i) for i in range(n)}


def good_rows(n: int = 20) -> list[str]:
    return [f"img/{i:03d}.png,{'ab'[i % 2]}" for i in range(n)]


def manifest(image_bytes, rows: list[str]) -> dict[str, bytes]:
    return images(image_bytes) | {"m.csv": "\n".join(rows).encode()}


def test_two_128_kb_path_cells_are_refused_at_once_by_the_path_cap(make_zip, image_bytes):
    cell = "a/" * (127 * 512) + "x.png"  # one-letter segments: the quadratic case, just under csv's limit
    zip_path = make_zip(manifest(image_bytes, good_rows() + [cell + ",a", cell + ",b"]))
    started = time.monotonic()
    report = inspect_image_archive(zip_path)
    assert time.monotonic() - started < 10  # was 87 s
    assert report.skipped_counts == {"too_long": 2}
    assert [i.row for i in report.skipped] == [21, 22]
    assert "130,053 characters, over the limit of 1,024" in report.skipped[0].reason
    assert len(report.skipped[0].path) < 300 and report.num_images == 20


def test_suffix_lookup_is_linear_even_without_the_cap():
    names = {"x.png": "x.png", "a/a/x.png": "a/a/x.png", "b/a/x.png": "b/a/x.png"}
    index = PathIndex(names)
    cell = "a/" * 65_000 + "x.png"
    started = time.monotonic()
    for _ in range(2):
        assert index.resolve(cell) == "a/a/x.png"  # the longest zip path that is a suffix
    assert index.resolve("q/" * 65_000 + "zz.png") is None
    assert time.monotonic() - started < 5  # the quadratic lookup took > 40 s for these cells


@pytest.mark.parametrize(("cell", "expected"), [
    ("photos/1.png", "photos/1.png"),
    ("gs://bucket/photos/1.png", "photos/1.png"),
    ("/home/me/set/photos/1.png", "photos/1.png"),
    ("C:\\data\\set\\photos\\1.png", "photos/1.png"),
    ("./photos//1.png", "photos/1.png"),
    ("elsewhere/deep/1.png", "deep/1.png"),
    ("x/other/deep/1.png", "other/deep/1.png"),
    ("photos/../photos/1.png", None),
    ("photos/2.png", None),
    ("", None),
])
def test_cells_resolve_to_the_longest_whole_segment_suffix(cell, expected):
    relative = {p: p for p in ("photos/1.png", "deep/1.png", "other/deep/1.png", "1.png.bak")}
    assert PathIndex(relative).resolve(cell) == expected


def test_rows_over_the_cap_are_refused_before_they_are_parsed(make_zip, image_bytes):
    rows = good_rows() + [f"img/missing{i}.png,a" for i in range(1_000_000 - 20 + 1)]  # the real cap + 1
    zip_path = make_zip(manifest(image_bytes, rows))
    started = time.monotonic()
    with pytest.raises(DatasetError, match=r"has 1,000,001 rows, more than the limit of 1,000,000"):
        inspect_image_archive(zip_path)
    assert time.monotonic() - started < 20  # counting lines, not parsing rows: < 1 s when idle


@pytest.mark.parametrize("extra", [0, 1])
def test_a_smaller_row_cap_is_exact(make_zip, image_bytes, extra):
    rows = ["path,label"] + good_rows() + [""] * 5 + [f"img/{i:03d}.png,a" for i in range(extra)]
    zip_path = make_zip(manifest(image_bytes, rows))
    limits = ArchiveLimits(max_manifest_rows=21)  # header + 20 rows fit; blank lines do not count
    if extra:
        with pytest.raises(DatasetError, match="has 22 rows, more than the limit of 21"):
            inspect_image_archive(zip_path, limits=limits)
    else:
        assert inspect_image_archive(zip_path, limits=limits).num_images == 20


def test_a_million_row_report_stays_small(make_zip, image_bytes):
    rows = good_rows() + [f"img/missing{i}.png,a" for i in range(100_000)]
    report = inspect_image_archive(make_zip(manifest(image_bytes, rows)))
    data = json.dumps(report.to_dict())
    assert report.skipped_counts == {"not_in_zip": 100_000} and report.skipped_total == 100_000
    assert len(report.skipped) == 20 and report.skipped[0].row == 21
    assert len(data) < 20_000  # 10^5 rows were 9.9 MB (10^6: 100 MB) when every issue was kept
    assert any("100,000 file(s) were skipped" in w for w in report.warnings)


@pytest.mark.parametrize(("bad", "line", "problem"), [
    ('"img/x.png,a', 4, "the quoted cell that opens on line 4 is never closed"),
    ('"img/x.png\nimg/y.png",a', 4, "the quoted cell that opens on line 4 runs on to line 5"),
    ('"img/x.png"z,a', 4, "not valid CSV at line 4"),
])
def test_an_unbalanced_quote_fails_with_its_line(make_zip, image_bytes, bad, line, problem):
    rows = good_rows()
    rows.insert(line - 1, bad)
    with pytest.raises(DatasetError, match="m.csv") as caught:
        inspect_image_archive(make_zip(manifest(image_bytes, rows)))
    assert problem in str(caught.value)


def test_each_bad_row_gets_its_line_and_reason(make_zip, image_bytes):
    rows = ["path,label,split"] + [f"img/{i:03d}.png,{'ab'[i % 2]},train" for i in range(16)] + [
        "img/016.png",  # line 18: a missing column
        "img/017.png,a,holdout",  # line 19: unknown split
        "pics/018.png,b,test",  # line 20: not in the zip
        "img/019.png,,test",  # line 21: no label
        "img/000.png,a,train",  # line 22: repeated
    ]
    report = inspect_image_archive(make_zip(manifest(image_bytes, rows)))
    got = {i.code: (i.row, i.path, i.reason) for i in report.skipped}
    assert got["columns"] == (18, "m.csv line 18", "expected path,label[,split] but found 1 column(s)")
    assert got["unknown_split"][:2] == (19, "img/017.png") and "'holdout'" in got["unknown_split"][2]
    assert got["not_in_zip"] == (20, "pics/018.png", "listed in m.csv line 20 but not found in the zip")
    assert got["no_label"][0] == 21 and got["duplicate_row"][0] == 22
    assert report.skipped_counts == dict.fromkeys(got, 1)


@pytest.mark.parametrize(("rows", "expected"), [
    ([r + ",holdout" for r in good_rows()], "20 manifest rows with an unknown split value (line 1: "),
    ([r.replace("img/", "pics/") for r in good_rows()], "20 manifest rows naming a path that is not in"),
    ([r.split(",")[0] for r in good_rows()], "20 manifest rows without the columns path,label[,split]"),
])
def test_a_manifest_with_no_usable_row_says_why_with_rows(make_zip, image_bytes, rows, expected):
    with pytest.raises(DatasetError, match="no row of m.csv points to a usable image") as caught:
        inspect_image_archive(make_zip(manifest(image_bytes, rows)))
    message = str(caught.value)
    assert expected in message and "line 2: " in message and len(message) < 1000
