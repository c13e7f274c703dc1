"""Issue 11 item 4: the dataset page and API stay small and fast whatever the upload held.

Before: a manifest of 10^6 rows naming missing files stored a 120 MB report and the page was
125 MB (2.3 GB of web memory). Validation now keeps the first issues of each reason and counts
the rest, and the page shows the counts with those examples.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

from webapp.datasets.models import Dataset
from worker.datasets import validate_dataset

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
MISSING = 100_000


def _hostile_manifest_dataset(owner) -> Dataset:
    dataset = Dataset.objects.create(owner=owner, name="hostile", file="placeholder")
    dataset.file.name = f"datasets/{dataset.pk}/data.zip"
    dataset.save(update_fields=["file"])
    dataset.path.parent.mkdir(parents=True)
    with zipfile.ZipFile(FIXTURE) as src, zipfile.ZipFile(dataset.path, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [n for n in src.namelist() if n.endswith(".png")]
        for name in names:
            dst.writestr(name, src.read(name))
        rows = [f"{n},{n.split('/')[0]}" for n in names] + [f"gone/{i}.png,cat" for i in range(MISSING)]
        rows.insert(5, "cat/0001.png,cat,holdout")
        dst.writestr("m.csv", "\n".join(rows))
    return dataset


def test_a_huge_manifest_makes_a_small_report_and_page(client_a, alice):
    dataset = _hostile_manifest_dataset(alice)
    assert validate_dataset(dataset.pk) == Dataset.READY
    dataset.refresh_from_db()
    assert dataset.report["skipped_counts"]["not_in_zip"] == MISSING
    assert len(json.dumps(dataset.report)) < 30_000

    started = time.monotonic()
    page = client_a.get(f"/datasets/{dataset.pk}/")
    elapsed = time.monotonic() - started
    html = page.content.decode()
    assert page.status_code == 200 and len(page.content) < 150_000 and elapsed < 10
    assert "Manifest rows naming a path that is not in the zip" in html and f"{MISSING}" in html
    assert "gone/0.png" in html and "gone/19.png" in html and "gone/20.png" not in html
    assert "unknown split value &#x27;holdout&#x27;" in html
    assert f"{MISSING + 1 - 21} more not listed" in html

    api = client_a.get(f"/api/datasets/{dataset.pk}/")
    assert api.status_code == 200 and len(api.content) < 30_000
    assert api.json()["report"]["skipped_total"] == MISSING + 1
