"""A language model through a real browser (issue 9): upload the committed tiny corpus, read its report,
design an enas-rnn search with tiny sizes, watch it live (perplexity curves, the cell's DAG), open the
results (test perplexity, sample generations) and download the package, whose predict.py prints the
next words.

Same live stack and browser fixtures as ``test_journey.py``; about 15 s of search and 10 s of final
training on the 50-line fixture, so it ends well within two minutes on two cores.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"
SECOND = 1000  # Playwright timeouts are in ms
FS = 'fieldset[data-space="enas-rnn"]'


def shot(page, artifacts: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / f"lm_{name}.png"), full_page=True)


def sign_up(page, base: str) -> None:
    page.goto(f"{base}/signup/")
    page.fill("#id_username", "e2e-language")
    page.fill("#id_password", "a-long-e2e-secret-9")
    page.fill("#id_password2", "a-long-e2e-secret-9")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/datasets/")


def upload_corpus(page, base: str, artifacts: Path) -> str:
    page.goto(f"{base}/datasets/new")
    page.fill("#id_name", "wikitext-tiny")
    page.set_input_files("#id_file", str(CORPUS))
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/datasets/\d+/$"), timeout=60 * SECOND)
    page.wait_for_selector("#corpus-stats", timeout=90 * SECOND)  # the page reloads itself when validated
    stats = page.inner_text("#corpus-stats")
    assert "Vocabulary capped at 10000 words" in stats and re.search(r"OOV rate · valid\s+\d+\.\d %", stats)
    assert page.locator("#longest-lines tbody tr").count() == 5
    shot(page, artifacts, "01_corpus_report")
    return re.search(r"/datasets/(\d+)/", page.url).group(1)


def design(page, base: str, artifacts: Path, dataset_id: str) -> None:
    page.goto(f"{base}/searches/new?dataset={dataset_id}")
    page.select_option("#id_space", "enas-rnn")
    page.fill(f'{FS} [name="opt-enas-rnn-num_nodes"]', "3")
    page.fill(f'{FS} [name="opt-enas-rnn-hidden_size"]', "16")
    page.fill("#id_name", "e2e language search")
    page.select_option("#id_controller", "reinforce")
    page.select_option("#id_evaluator", "shared")
    page.fill("#id_budget_value", "0.25")
    page.select_option("#id_budget_unit", "m")
    page.fill("#id_final_value", "0.15")
    page.select_option("#id_final_unit", "m")
    page.wait_for_selector("#preview-svg svg", timeout=30 * SECOND)  # the cell's DAG
    # what the budget buys, measured on this server (searchcore.planning.language): both phases planned
    page.wait_for_function("() => ['plan-search', 'plan-final'].every("
                           "id => document.getElementById(id).textContent.trim().length > 0)",
                           timeout=60 * SECOND)
    shot(page, artifacts, "02_designer")
    page.click("#start")
    page.wait_for_url(re.compile(r".*/searches/\d+/$"))


def watch(page, artifacts: Path) -> None:
    page.wait_for_function("() => { const el = document.getElementById('chart-child');"
                           " return el.data && el.data[0].name === 'train perplexity'; }",
                           timeout=90 * SECOND)
    page.wait_for_selector("#best-cells svg", timeout=30 * SECOND)
    shot(page, artifacts, "03_live")
    page.wait_for_selector("#finished-banner:not([hidden])", timeout=150 * SECOND)
    page.wait_for_function("() => { const el = document.getElementById('chart-final');"
                           " return el.data && el.data.some(t => t.name === 'valid perplexity'); }",
                           timeout=10 * SECOND)
    shot(page, artifacts, "04_live_finished")
    status = page.inner_text("#status-badge").lower()
    # a 1,155-token corpus leaves little beyond word frequencies to learn: the verdict (training.lm_verdict)
    # may fail the run honestly; its model is trained and packaged all the same
    log = page.inner_text("#log")
    learned_nothing = status == "failed" and "learned nothing beyond word frequencies" in log
    assert status == "succeeded" or learned_nothing, log[-2000:]
    assert "test perplexity" in page.inner_text("#finished-banner")


def results_and_package(page, artifacts: Path, tmp_path: Path) -> None:
    page.click("#finished-banner a")
    page.wait_for_url(re.compile(r".*/results$"))
    page.wait_for_selector("#chart-final .main-svg")
    page.wait_for_function("() => [...document.querySelectorAll('#best-arch img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert float(page.inner_text("#test-perplexity").replace(",", "")) > 1
    samples = page.locator("#samples li")
    assert samples.count() == 3 and samples.first.locator("strong").inner_text().strip()
    shot(page, artifacts, "05_results")
    with page.expect_download() as info:
        page.click("#download")
    package = tmp_path / "package.zip"
    info.value.save_as(package)
    folder = tmp_path / "pkg"
    with zipfile.ZipFile(package) as zf:
        zf.extractall(folder)
    predict = next(folder.rglob("predict.py"))
    out = subprocess.run([sys.executable, str(predict), "--top", "3", "the game was"], capture_output=True,
                         text=True, timeout=60, check=True).stdout.strip().split("\t")
    assert out[0] == "the game was" and len(out) == 1 + 2 * 3, out
    assert all(0 <= float(p) <= 1 for p in out[2::2]), out


def test_language_journey(live_stack, page, artifacts, tmp_path):
    page, requests = page
    base = live_stack.base_url
    page.set_default_timeout(30 * SECOND)
    sign_up(page, base)
    dataset_id = upload_corpus(page, base, artifacts)
    design(page, base, artifacts, dataset_id)
    watch(page, artifacts)
    results_and_package(page, artifacts, tmp_path)
    assert requests.remote() == [], f"requests left 127.0.0.1: {requests.remote()[:5]}"
    assert requests.errors == [], f"browser errors: {requests.errors[:5]}"
