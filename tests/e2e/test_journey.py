"""The whole product through a real browser: sign up, upload, design, watch live, reload, results, download,
run the controls and compare; then a NASNet search (PPO controller) drawn with its combines, whose
cells are transferred to a second dataset (issue 8).

Runs against the live stack (real Redis, Celery workers, uvicorn) with a tiny search (two nodes,
one cell per stage, 4 channels, about 20 s of search and 10 s of final training) so it finishes
well within a minute on two cores.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
SECOND_FIXTURE = FIXTURE.with_name("gray28_png.zip")  # 1 channel, 28 px, 3 classes
SECOND = 1000  # Playwright timeouts are in ms


def shot(page, artifacts: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header would otherwise show mid-page
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def sign_up(page, base: str, artifacts: Path) -> None:
    page.goto(f"{base}/signup/")
    page.fill("#id_username", "e2e-user")
    page.fill("#id_password", "a-long-e2e-secret-1")
    page.fill("#id_password2", "a-long-e2e-secret-1")
    shot(page, artifacts, "01_signup")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/datasets/")
    shot(page, artifacts, "02_datasets_empty")


def upload(page, base: str, artifacts: Path) -> str:
    page.goto(f"{base}/datasets/new")
    # Throttle the upload (~120 KiB/s) so the progress bar is seen moving, not just at 100 %.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 120 * 1024})
    page.fill("#id_name", "cifar-tiny")
    page.set_input_files("#id_file", str(FIXTURE))
    page.click("#upload-submit")
    page.wait_for_function("() => { const p = parseInt(document.getElementById('upload-pct').textContent);"
                           " return p > 0 && p < 100; }", timeout=20 * SECOND)
    shot(page, artifacts, "03_upload_progress")
    page.wait_for_url(re.compile(r".*/datasets/\d+/$"), timeout=60 * SECOND)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    page.wait_for_selector("#health-report", timeout=90 * SECOND)
    page.wait_for_selector("#class-chart .main-svg")
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('#samples img')];"
                           " return imgs.length === 0 || imgs.some(i => i.naturalWidth > 0); }")
    shot(page, artifacts, "04_dataset_report")
    assert page.locator("#health-report").inner_text().count("\n") > 2
    return re.search(r"/datasets/(\d+)/", page.url).group(1)


def upload_second(page, base: str) -> str:
    page.goto(f"{base}/datasets/new")
    page.fill("#id_name", "gray-28")
    page.set_input_files("#id_file", str(SECOND_FIXTURE))
    page.click("#upload-submit")
    page.wait_for_url(re.compile(r".*/datasets/\d+/$"), timeout=60 * SECOND)
    page.wait_for_selector("#health-report", timeout=90 * SECOND)
    return re.search(r"/datasets/(\d+)/", page.url).group(1)


def design_nasnet(page, base: str, artifacts: Path, dataset_id: str) -> None:
    """The designer shows nasnet's options from its own description (13 ops, both combines)."""
    page.goto(f"{base}/searches/new?dataset={dataset_id}")
    page.select_option("#id_space", "nasnet")
    fs = 'fieldset[data-space="nasnet"]'
    assert page.locator(f'{fs} input[name="opt-nasnet-ops"]').count() == 13
    assert page.locator(f'{fs} input[name="opt-nasnet-combines"]:checked').count() == 2
    for op in ("sep7", "conv1x7_7x1", "max7"):
        page.uncheck(f'{fs} input[value="{op}"]')
    page.fill(f'{fs} [name="opt-nasnet-num_nodes"]', "2")
    page.fill(f'{fs} [name="opt-nasnet-cells_per_stage"]', "1")
    page.fill(f'{fs} [name="opt-nasnet-channels"]', "4")
    page.fill("#id_name", "e2e nasnet search")
    page.select_option("#id_controller", "ppo")
    page.select_option("#id_evaluator", "shared")
    page.fill("#id_budget_value", "0.3")
    page.select_option("#id_budget_unit", "m")
    page.fill("#id_final_value", "0.15")
    page.select_option("#id_final_unit", "m")
    page.wait_for_selector("#preview-svg svg", timeout=30 * SECOND)
    preview = page.text_content("#preview-svg")
    assert re.search(r"\d: (add|concat)", preview), preview
    shot(page, artifacts, "13_designer_nasnet")
    page.click("#start")
    page.wait_for_url(re.compile(r".*/searches/\d+/$"))


def run_nasnet(page, artifacts: Path) -> str:
    """A nasnet search (PPO) runs to the end with its combines drawn; returns its live page's URL. On
    100 images in seconds its final model may land at chance: the run is then *failed* with that
    reason, and its architecture can still be trained again (transferred), as the message suggests."""
    page.wait_for_selector("#finished-banner:not([hidden])", timeout=240 * SECOND)
    page.wait_for_selector("#best-cells svg", timeout=30 * SECOND)
    assert re.search(r"\d: (add|concat)", page.text_content("#best-cells")), page.text_content("#best-cells")
    log = page.inner_text("#log")
    assert page.inner_text("#status-badge").lower() == "succeeded" or "at chance level" in log, log[-2000:]
    shot(page, artifacts, "14_live_nasnet")
    return page.url


def transfer(page, base: str, artifacts: Path, source_url: str, second_id: str) -> None:
    """NASNet's transfer: a search's cells trained on the second dataset (grayscale, 3 classes), wider;
    that run's results page links back to the search, which lists the transfer."""
    page.goto(source_url.rstrip("/") + "/results")
    card = page.inner_text("#transfer-card")
    assert page.locator("#transfer-form").count() == 1, card
    page.select_option("#transfer-dataset", second_id)
    page.fill("#transfer-channels", "8")
    page.fill("#transfer-budget", "2")
    page.select_option("#transfer-budget-unit", "epochs")
    shot(page, artifacts, "15_transfer_form")
    page.click("#run-transfer")
    page.wait_for_url(re.compile(r".*/searches/\d+/$"))
    assert page.url.rstrip("/") != source_url.rstrip("/")
    page.wait_for_selector("#finished-banner:not([hidden])", timeout=180 * SECOND)
    page.click("#finished-banner a")
    page.wait_for_url(re.compile(r".*/results$"))
    assert re.match(r"\d+\.\d %", page.inner_text("#test-accuracy"))
    assert page.locator("#per-class tbody tr").count() == 3  # the second dataset's classes
    link = page.get_attribute("#transfer-source-link", "href")
    assert source_url.rstrip("/").endswith(link.rstrip("/").removesuffix("/results")), (link, source_url)
    shot(page, artifacts, "16_transfer_results")
    page.click("#transfer-source-link")
    page.wait_for_selector('#transfers-list [data-testid="transfer-link"]')


def design(page, base: str, artifacts: Path, dataset_id: str) -> None:
    page.goto(f"{base}/searches/new?dataset={dataset_id}")
    page.select_option("#id_space", "enas-micro")
    fs = 'fieldset[data-space="enas-micro"]'
    page.uncheck(f'{fs} input[value="sep5"]')
    page.uncheck(f'{fs} input[value="identity"]')
    page.fill(f'{fs} [name="opt-enas-micro-num_nodes"]', "2")
    page.fill(f'{fs} [name="opt-enas-micro-cells_per_stage"]', "1")
    page.fill(f'{fs} [name="opt-enas-micro-channels"]', "4")
    page.fill("#id_name", "e2e tiny search")
    page.select_option("#id_controller", "reinforce")
    page.select_option("#id_evaluator", "shared")
    page.fill("#id_budget_value", "0.35")
    page.select_option("#id_budget_unit", "m")
    page.fill("#id_final_value", "0.15")
    page.select_option("#id_final_unit", "m")
    # instant client-side check: no op selected -> message next to the field, no submit
    checked = page.locator(f'{fs} input[name="opt-enas-micro-ops"]:checked')
    while checked.count():
        checked.first.uncheck()
    page.wait_for_function("() => document.querySelector('#field-opt-enas-micro-ops .error').textContent"
                           ".includes('select at least one')")
    page.check(f'{fs} input[value="sep3"]')
    page.check(f'{fs} input[value="max3"]')
    page.wait_for_selector("#preview-svg svg", timeout=30 * SECOND)
    page.wait_for_function("() => /s|min|h/.test(document.getElementById('epoch-time').textContent)"
                           " && !document.getElementById('epoch-time').textContent.includes('measuring')",
                           timeout=60 * SECOND)
    assert page.inner_text("#space-size") not in ("", "—")
    shot(page, artifacts, "05_designer")
    page.click("#start")
    page.wait_for_url(re.compile(r".*/searches/\d+/$"))


CHART_POINTS = ("() => { const el = document.getElementById('chart-reward');"
                " return el.data ? el.data[0].x.length : 0; }")
# Samples the progress card every 250 ms, from the reload to the end of the run.
WATCH_CARD = ("() => { window.cardLog = []; const text = (id) => document.getElementById(id).textContent;"
              " window.setInterval(() => window.cardLog.push([text('progress-pct'), text('stat-archs'),"
              " text('stat-elapsed'), !!window.nasLive.finished]), 250); }")


def _seconds(text: str) -> float:
    """"42 s", "3 min 05 s", "1 h 02 min" -> seconds."""
    units = {"h": 3600, "min": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+) (h|min|s)\b", text))


def check_progress_card(page) -> None:
    """The card moves through the whole run: the bar never goes back (search, then final training
    on one bar), the architecture count stays once known, elapsed time only grows."""
    page.wait_for_function("() => window.cardLog.some((row) => row[3])")
    log = [row for row in page.evaluate("() => window.cardLog") if row[2] != "—"]
    pcts = [int(row[0].split()[0]) for row in log]
    assert pcts == sorted(pcts), f"the bar went back: {pcts}"
    assert len(set(pcts)) >= 8 and pcts[-1] == 100, pcts
    archs = [int(row[1]) for row in log]
    assert archs == sorted(archs) and archs[0] > 0, archs
    elapsed = [_seconds(row[2]) for row in log]
    assert elapsed == sorted(elapsed) and elapsed[-1] > 21, elapsed  # 21 s of search, then final training


def watch_live_and_reload(page, artifacts: Path) -> None:
    page.wait_for_function(f"({CHART_POINTS})() > 0", timeout=90 * SECOND)
    page.wait_for_selector("#sampled-cells svg", timeout=30 * SECOND)
    page.wait_for_selector("#best-cells svg", timeout=30 * SECOND)
    # the progress card is live as soon as the charts are (it once sat at 0 % / 0 / 0 s)
    page.wait_for_function("() => parseInt(document.getElementById('stat-archs').textContent) > 0"
                           " && document.getElementById('stat-elapsed').textContent !== '—'",
                           timeout=5 * SECOND)
    shot(page, artifacts, "06_live")
    before = page.evaluate(CHART_POINTS)
    assert page.evaluate("() => window.nasLive.finished") is None, "the search ended before the reload"
    page.reload()
    page.wait_for_function(f"({CHART_POINTS})() >= {before}", timeout=30 * SECOND)
    # the chart redraws at most every 200 ms: wait until it shows everything the store holds
    page.wait_for_function(f"({CHART_POINTS})() === window.nasLive.steps.length", timeout=10 * SECOND)
    points, seqs = page.evaluate(f"() => [({CHART_POINTS})(), window.nasLive.steps.map(s => s.seq)]")
    assert len(seqs) == len(set(seqs)), "a controller step was drawn twice"
    assert seqs == sorted(seqs)
    assert points >= before


def wait_for_success(page, artifacts: Path) -> None:
    page.wait_for_selector("#finished-banner:not([hidden])", timeout=240 * SECOND)
    status = page.inner_text("#status-badge")
    shot(page, artifacts, "07_live_finished")
    log = page.inner_text("#log")
    # a tiny model at chance is reported as a failed run with its reason (issue 7), the rest is the same
    assert status.lower() == "succeeded" or "at chance level" in log, log[-2000:]
    steps = page.evaluate("() => window.nasLive.steps.map(s => s.seq)")
    assert len(steps) == len(set(steps))
    check_progress_card(page)


def check_results(page, base: str, artifacts: Path, tmp_path: Path) -> None:
    page.click("#finished-banner a")
    page.wait_for_url(re.compile(r".*/results$"))
    page.wait_for_selector("#chart-confusion .main-svg")
    page.wait_for_selector("#chart-final .main-svg")
    page.wait_for_function("() => [...document.querySelectorAll('#best-arch img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert re.match(r"\d+\.\d %", page.inner_text("#test-accuracy"))
    assert page.locator("#per-class tbody tr").count() == 10
    shot(page, artifacts, "08_results")
    with page.expect_download() as info:
        page.click("#download")
    path = tmp_path / "package.zip"
    info.value.save_as(path)
    check_package(path)


def check_comparison(page, artifacts: Path) -> None:
    """One click on the results page runs the controls (random controller, ResNet-20 for the whole
    budget); the comparison page says so while they run and, once all three have ended, who won."""
    from playwright.sync_api import expect

    page.click("#run-controls")
    page.wait_for_url(re.compile(r".*/searches/\d+/compare$"))
    assert page.locator("#comparison-table tbody tr").count() == 3
    assert "has not finished yet" in page.inner_text("#verdict")
    shot(page, artifacts, "08b_compare_pending")
    # the page reloads itself every 5 s while a run is active; two short runs on one worker
    expect(page.locator("#verdict.decided")).to_be_visible(timeout=300 * SECOND)
    verdict = page.inner_text("#verdict")
    assert re.match(r"NAS (won|tied with|lost)", verdict), verdict
    assert re.search(r"\d+\.\d points|tied", verdict), verdict
    cells = page.locator("#comparison-table tbody td.num")
    texts = cells.all_inner_texts()
    table = page.inner_text("#comparison-table")
    assert len(texts) == 9 and all(re.match(r"[\d.,]+( %)?$", t) for t in texts), table
    shot(page, artifacts, "08c_compare")


def check_package(path: Path) -> None:
    import onnxruntime as ort

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        onnx_name = next(n for n in names if n.endswith("model.onnx"))
        assert any(n.endswith("predict.py") for n in names)
        model = zf.read(onnx_name)
        extra = [n for n in names if n.endswith("model.onnx.data")]
        if extra:  # external weights must sit beside the graph
            folder = path.parent / "pkg"
            zf.extractall(folder)
            session = ort.InferenceSession(str(folder / onnx_name))
        else:
            session = ort.InferenceSession(io.BytesIO(model).getvalue())
    inp = session.get_inputs()[0]
    shape = [1 if not isinstance(d, int) else d for d in inp.shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    logits = session.run(None, {inp.name: x})[0]
    assert logits.shape[-1] == 10 and np.isfinite(logits).all()


def test_journey(live_stack, page, artifacts, tmp_path):
    page, requests = page
    base = live_stack.base_url
    page.set_default_timeout(30 * SECOND)
    sign_up(page, base, artifacts)
    dataset_id = upload(page, base, artifacts)
    page.goto(f"{base}/datasets/")
    shot(page, artifacts, "09_datasets")
    design(page, base, artifacts, dataset_id)
    watch_live_and_reload(page, artifacts)
    page.goto(f"{base}/searches/")
    shot(page, artifacts, "10_searches_running")
    page.go_back()
    page.wait_for_function("() => window.nasLive && window.nasLive.progress")
    page.evaluate(WATCH_CARD)
    wait_for_success(page, artifacts)
    check_results(page, base, artifacts, tmp_path)
    check_comparison(page, artifacts)
    second_id = upload_second(page, base)
    design_nasnet(page, base, artifacts, dataset_id)
    transfer(page, base, artifacts, run_nasnet(page, artifacts), second_id)
    page.goto(f"{base}/searches/")
    shot(page, artifacts, "11_searches")
    page.goto(f"{base}/account/")
    shot(page, artifacts, "12_account")
    assert requests.urls, "no request was recorded"
    assert requests.remote() == [], f"requests left 127.0.0.1: {requests.remote()[:5]}"
    assert requests.errors == [], f"browser errors: {requests.errors[:5]}"
