"""Issue 11 item 4: zip entry caps, a health report bounded per reason, a class cap, a time limit.

Probe before the fix: a zip of 200,000 text entries beside 20 images gave a 13.5 MB report.
"""

from __future__ import annotations

import itertools
import json
import zipfile

import pytest

from searchcore.data import ArchiveLimits, DatasetError, DatasetReport, FileIssue, inspect_image_archive
from searchcore.data.archive import declared_entries
from searchcore.data.deadline import Deadline, ValidationTimeout
from searchcore.data.issues import IssueLog
from searchcore.data.report import MAX_SIZES


def two_classes(image_bytes, n: int = 10) -> dict[str, bytes]:
    return {f"{'ab'[i % 2]}/{i:03d}.png": image_bytes(size=(8, 8), seed=i) for i in range(n)}


def test_an_issue_log_counts_every_issue_and_keeps_the_first_of_each_reason():
    log = IssueLog(examples=2)
    for i in range(1000):
        log.add(FileIssue(f"x{i}", "gone", "not_in_zip", i))
    log.add(FileIssue("y", "bad", "unreadable"))
    other = IssueLog(examples=2)
    other.extend([FileIssue("z", "bad", "unreadable"), FileIssue("w", "bad", "unreadable")])
    log.merge(other)
    assert log.counts == {"not_in_zip": 1000, "unreadable": 3} and log.total == 1003
    assert [i.path for i in log] == ["x0", "x1", "y", "z"]
    assert log.summary().startswith("1,000 manifest rows naming a path that is not in the zip "
                                     "(line 0: 'x0', line 1: 'x1', ...; the first: gone)")


def test_many_zip_entries_make_a_small_report(make_zip, image_bytes):
    files = two_classes(image_bytes) | {f"a/junk{i}.txt": b"" for i in range(20_000)}
    report = inspect_image_archive(make_zip(files))
    assert report.skipped_counts == {"not_image": 20_000} and len(report.skipped) == 20
    assert len(json.dumps(report.to_dict())) < 20_000  # 200,000 entries made 13.5 MB before


def test_the_entry_cap_is_read_from_the_end_record_before_the_directory(make_zip, image_bytes):
    files = two_classes(image_bytes) | {f"a/junk{i}.txt": b"" for i in range(91)}
    path = make_zip(files)
    assert declared_entries(path) == 101
    with pytest.raises(DatasetError, match="the zip has 101 entries, more than the limit of 100"):
        inspect_image_archive(path, limits=ArchiveLimits(max_entries=100))
    assert inspect_image_archive(path, limits=ArchiveLimits(max_entries=101)).num_images == 10


def test_zip_names_over_the_path_cap_are_skipped_with_the_reason(make_zip, image_bytes):
    long_name = "a/" + "n" * 2000 + ".png"
    report = inspect_image_archive(make_zip(two_classes(image_bytes) | {long_name: b"x"}))
    assert report.skipped_counts == {"too_long": 1}
    assert "2,006 characters, over the limit of 1,024" in report.skipped[0].reason
    assert len(report.skipped[0].path) < 100


def test_the_class_cap(make_zip, image_bytes):
    files = {f"c{k}/{i}.png": image_bytes(size=(8, 8), seed=10 * k + i) for k in range(4) for i in range(2)}
    with pytest.raises(DatasetError, match="found 4 classes, more than the limit of 3"):
        inspect_image_archive(make_zip(files), limits=ArchiveLimits(max_classes=3))


def test_image_sizes_are_bounded_in_the_report():
    sizes = {f"{w}x8": 1 for w in range(8, 208)} | {"32x32": 50}
    report = DatasetReport(class_names=["a"], counts={"a": 250}, split_counts={}, image_sizes=sizes)
    assert len(report.image_sizes) == MAX_SIZES + 1 and report.image_sizes["32x32"] == 50
    assert sum(report.image_sizes.values()) == 250 and report.image_sizes["other"] == 151


def test_an_old_report_without_counts_still_reads():
    data = {"class_names": ["a"], "counts": {"a": 2}, "split_counts": {}, "image_sizes": {},
            "skipped": [{"path": "x", "reason": "cannot identify image file"}]}
    report = DatasetReport.from_dict(data)
    assert report.skipped_counts == {"other": 1} and report.skipped_total == 1


@pytest.mark.parametrize("calls", [1, 5, 40])
def test_the_deadline_stops_validation_with_a_reason(make_zip, image_bytes, calls):
    """A clock that passes the limit after ``calls`` looks: listing, headers or decoding stops there."""
    ticks = itertools.count()
    deadline = Deadline(10, clock=lambda: 0 if next(ticks) <= calls else 11)
    with pytest.raises(ValidationTimeout, match=r"took longer than the limit of 10 s \(stopped while "):
        inspect_image_archive(make_zip(two_classes(image_bytes, 30)), deadline=deadline)


def test_no_deadline_and_a_generous_one_change_nothing(make_zip, image_bytes):
    path = make_zip(two_classes(image_bytes))
    assert inspect_image_archive(path, deadline=Deadline(600)) == inspect_image_archive(path)
    with pytest.raises(ValueError, match="positive"):
        Deadline(0)


def test_a_manifest_deadline_names_the_line(make_zip, image_bytes):
    files = two_classes(image_bytes) | {"m.csv": "\n".join(f"a/{i:03d}.png,x" for i in range(5000)).encode()}
    ticks = itertools.count()
    deadline = Deadline(10, clock=lambda: 0 if next(ticks) <= 12 else 11)  # 11 entries listed first
    with pytest.raises(ValidationTimeout, match=r"line [\d,]+ of m.csv"):
        inspect_image_archive(make_zip(files), deadline=deadline)


def test_declared_entries_of_a_damaged_file_is_none(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert declared_entries(bad) is None
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a.txt", b"x")
    assert declared_entries(good) == 1
