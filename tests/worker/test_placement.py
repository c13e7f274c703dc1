"""The runner puts a search on its class's device and records where it ran (issue 10 item 2).

A gpu-class search on a worker without CUDA fails with a message saying so — it never quietly trains on
the CPU. CUDA is reported absent here whatever the machine has, so the test means the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from webapp.searches.models import Search, SearchEvent
from webapp.searches.services import create_search
from worker import lease
from worker.runner import run_claimed_search

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"
BENCHMARK = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 5}}


@pytest.fixture(autouse=True)
def _table(settings: Any) -> Any:
    settings.NB201_TABLE = TABLE
    with mock.patch("webapp.searches.realtime.publish"):
        yield


def _run(search: Search, worker_name: str) -> str | None:
    claim = lease.claim(search.pk)
    assert claim.outcome == lease.CLAIMED
    return run_claimed_search(search.pk, claim.owner, worker_name=worker_name)


def test_a_cpu_search_records_its_worker_and_device(user, enqueued) -> None:
    search = create_search(user, BENCHMARK)
    assert search.device_class == "cpu"  # auto, with no GPU worker seen
    assert _run(search, "searches-cpu@box") == Search.SUCCEEDED
    search.refresh_from_db()
    assert (search.worker_name, search.device) == ("searches-cpu@box", "cpu")


def test_a_gpu_search_on_a_worker_without_cuda_fails_clearly(user, enqueued) -> None:
    search = create_search(user, BENCHMARK)
    Search.objects.filter(pk=search.pk).update(device_class="gpu")
    with mock.patch("torch.cuda.is_available", return_value=False), \
            mock.patch("searchcore.run_search") as engine, mock.patch("worker.runner.run_search") as used:
        assert _run(search, "gpu0@box") == Search.FAILED
    assert not engine.called and not used.called  # nothing ran on the CPU instead
    search.refresh_from_db()
    assert search.worker_name == "gpu0@box" and search.device == ""
    assert "needs a GPU" in search.message and "gpu0@box" in search.message and "no CUDA" in search.message
    finished = SearchEvent.objects.get(search=search, type="finished")
    assert finished.payload["status"] == "failed" and "needs a GPU" in finished.payload["message"]
