"""The dataset page of a text corpus (issue 9 item 1): tokens, vocabulary and its cap, OOV rate and
the longest lines, from the report validation stores; a failed corpus shows its reason."""

from __future__ import annotations

import re
from pathlib import Path

from searchcore.data.text import load_text_corpus
from webapp.datasets.models import Dataset

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "wikitext2_tiny.txt"


def _cell(html: str, label: str) -> str:
    found = re.search(rf"<tr><td>{re.escape(label)}</td><td>([^<]*)</td></tr>", html)
    assert found, f"no row {label!r}"
    return found.group(1)


def test_a_text_dataset_page_shows_its_corpus_report(client_a, alice):
    report = load_text_corpus(CORPUS).report.to_dict()
    dataset = Dataset.objects.create(owner=alice, name="wiki", kind=Dataset.TEXT, status=Dataset.READY,
                                     report=report, size=CORPUS.stat().st_size)
    html = client_a.get(f"/datasets/{dataset.pk}/").content.decode()
    assert _cell(html, "tokens · train") == str(report["tokens"]["train"])
    assert _cell(html, "vocab size") == str(report["vocab_size"])
    assert _cell(html, "OOV rate · valid") == f"{100 * report['oov_rate']['valid']:.1f} %"
    assert "Vocabulary capped at 10000 words" in html
    table = html.split('id="longest-lines"')[1].split("</table>")[0]
    first = report["longest_lines"][0]
    assert f'<td class="num">{first["chars"]}</td>' in table and table.count("<tr>") == 1 + 5
    assert "images per class" not in html.lower()


def test_a_failed_text_dataset_shows_the_reason(client_a, alice):
    dataset = Dataset.objects.create(owner=alice, name="bin", kind=Dataset.TEXT, status=Dataset.FAILED,
                                     error="bin.txt is a binary file, not text", size=10)
    html = client_a.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'id="dataset-error"' in html and "bin.txt is a binary file, not text" in html
