"""Queue routing by device class on the real stack (issue 10 item 2): a gpu-class search is never taken by
a CPU-only worker, a cpu-class one never by the GPU worker.

Redis, uvicorn and two real Celery workers: `searches` (queue searches.cpu) and `gpu` (only searches.gpu:
it advertises class gpu on this CPU machine, so the runner fails the searches it takes for want of CUDA,
naming itself — which is what shows who took them). The GPU worker is killed (-9: its heartbeat row stays,
so the API still accepts gpu searches for WORKER_LOST_SECONDS); a gpu search made then waits while the
cpu worker runs two cpu searches queued after it, and is taken only by the GPU worker started again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.stack import ApiClient, LiveStack, live_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BENCHMARK = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 4}}


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    with live_stack(workers=("searches", "gpu")) as started:
        yield started


@pytest.fixture(scope="module")
def api(stack: LiveStack) -> ApiClient:
    return stack.api(stack.create_user("router", "queue-routing-password-1"))


def create(api: ApiClient, device_class: str) -> int:
    status, body = api.post("/api/searches/", {**BENCHMARK, "device_class": device_class})
    assert status == 201, body
    return body["id"]


def ended(api: ApiClient, search_id: int) -> dict:
    return api.wait_for(f"/api/searches/{search_id}/", lambda b: b["status"] in ("succeeded", "failed",
                                                                                  "cancelled"),
                        timeout=180, every=0.5)


def classes(api: ApiClient) -> dict[str, str]:
    status, body = api.get("/api/workers/")
    assert status == 200, body
    return {w["name"].split("@")[0]: w["device_class"] for w in body["workers"] if w["state"] == "connected"}


def test_each_class_runs_only_on_its_own_workers(stack, api) -> None:
    assert api.wait_for("/api/workers/", lambda b: len(b["workers"]) == 2, timeout=30) and \
        classes(api) == {"searches": "cpu", "gpu": "gpu"}
    gpu = stack.service("worker-gpu")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(gpu.process.pid, signal.SIGKILL)  # no goodbye: its row says it was seen seconds ago
    gpu.process.wait(timeout=30)
    stack.services.remove(gpu)

    waiting_gpu = create(api, "gpu")  # first in line, but only a gpu worker may take it
    cpu_runs = [create(api, "cpu"), create(api, "cpu")]
    for search_id in cpu_runs:
        detail = ended(api, search_id)
        assert detail["status"] == "succeeded", detail
        assert detail["worker"].startswith("searches@") and detail["device"] == "cpu", detail
    status, held = api.get(f"/api/searches/{waiting_gpu}/")
    assert held["status"] == "queued" and held["worker"] is None and held["queue_position"] == 1, held

    stack._start_worker("gpu")  # its start-up recovery re-sends the gpu searches; it takes this one
    detail = ended(api, waiting_gpu)
    assert detail["worker"].startswith("gpu@") and detail["attempts"] == 1, detail
    if detail["status"] == "failed":  # this machine has no CUDA: it says so instead of running on the CPU
        assert "needs a GPU" in detail["message"] and detail["device"] is None, detail
    else:  # a machine with a GPU runs it there
        assert detail["status"] == "succeeded" and detail["device"].startswith("cuda:"), detail

    deadline = time.monotonic() + 30  # both workers listed again, each with its class
    while classes(api) != {"searches": "cpu", "gpu": "gpu"}:
        assert time.monotonic() < deadline, classes(api)
        time.sleep(0.25)
