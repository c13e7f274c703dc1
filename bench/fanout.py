"""Fan-out throughput: scratch children per hour with 1 vs 2 `children` worker processes (issue 10).

Run: ``python -m bench.fanout [--children 8 --epochs 20 --image-size 32 --repeat 1]``. Starts the real
stack (``tests/stack.py``: Redis, a `searches` and a `datasets` worker, uvicorn) with
``CHILDREN_FANOUT=auto`` (the search pings for children workers, as under ``make run``) and
``CHILD_TORCH_THREADS=1``, uploads the tiny CIFAR fixture, then for each round starts the same NAS-RL
search (``nas-rl-cnn`` + ``scratch``, same seed, so the same children) with one children worker,
then with two. A round's throughput = children done / seconds from its first child event to its last
``done`` child event (the search's set-up and final training are left out); each child's worker comes
from the ``child`` events. Target: >= 1.7x with two workers on this 2-core machine.
Prints a table and writes ``bench/results/fanout.json`` with the load average at start and end.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench._common import format_table, write_result
from tests.stack import ApiClient, LiveStack, live_stack

FIXTURE_ZIP = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "cifar10_tiny_png.zip"
TARGET = 1.7


def search_body(dataset: int, children: int, epochs: int, image_size: int) -> dict[str, Any]:
    return {"dataset": dataset, "space": "nas-rl-cnn", "controller": "reinforce", "evaluator": "scratch",
            "space_options": {"num_layers": 3, "channels": 16, "filter_counts": ["24", "36"]},
            "evaluator_options": {"child_epochs": epochs, "batch_size": 16},
            "archs_per_step": 4, "budget": {"seconds": 3600, "max_archs": children},
            "image_size": image_size, "seed": 7, "final_budget": {"epochs": 1}}


def run_round(api: ApiClient, body: dict[str, Any], workers: int) -> dict[str, Any]:
    status, created = api.post("/api/searches/", body)
    if status != 201:
        raise RuntimeError(f"search not created: {created}")
    search_id = created["id"]
    detail = api.wait_for(f"/api/searches/{search_id}/", lambda b: b["status"] in (
        "succeeded", "failed", "cancelled"), timeout=3600, every=1.0)
    status, page = api.get(f"/api/searches/{search_id}/events?after=0&limit=100000")
    events = [e for e in page["events"] if e["type"] == "child"]
    done = [e for e in events if e["payload"]["state"] == "done"]
    if not done:
        raise RuntimeError(f"no child was fanned out (is a children worker up?): {detail['message']}")
    seconds = max(e["time"] for e in done) - min(e["time"] for e in events)
    return {"workers": workers, "search": search_id, "status": detail["status"],
            "message": detail["message"][:200], "children": len(done),
            "seconds": round(seconds, 2), "children_per_hour": round(len(done) * 3600 / seconds, 1),
            "by_worker": _count(e["payload"]["worker"] for e in done),
            "child_seconds_mean": round(sum(e["payload"]["seconds"] for e in done) / len(done), 2),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def _count(names: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def measure(stack: LiveStack, args: argparse.Namespace) -> list[dict[str, Any]]:
    api = stack.api(stack.create_user("bench", "bench-fanout-password"))
    status, body = api.upload("/api/datasets/", {"name": "tiny cifar"}, "file", FIXTURE_ZIP)
    api.wait_for(f"/api/datasets/{body['id']}/", lambda b: b["status"] == "ready", timeout=120)
    search = search_body(body["id"], args.children, args.epochs, args.image_size)
    rounds = []
    for _ in range(args.repeat):
        rounds.append(run_round(api, search, 1))
        stack._start_worker("children2")
        rounds.append(run_round(api, search, 2))
        stack.service("worker-children2").stop()
        stack.services.remove(stack.service("worker-children2"))
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=8, help="children per search (max_archs)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per child")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of (1 worker, 2 workers)")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    started = time.monotonic()
    env = {"CHILDREN_FANOUT": "auto", "CHILD_TORCH_THREADS": "1"}
    with live_stack(extra_env=env, workers=("searches", "datasets", "children1")) as stack:
        rounds = measure(stack, args)
    one = [r["children_per_hour"] for r in rounds if r["workers"] == 1]
    two = [r["children_per_hour"] for r in rounds if r["workers"] == 2]
    speedup = (sum(two) / len(two)) / (sum(one) / len(one))
    headers = ["workers", "children", "seconds", "children/h", "mean child s", "by worker", "load 1m"]
    print(format_table(headers,
                       [[r["workers"], r["children"], r["seconds"], r["children_per_hour"],
                         r["child_seconds_mean"], r["by_worker"], r["load_average_1m"]] for r in rounds]))
    print(f"speed-up with 2 workers: {speedup:.2f}x (target >= {TARGET}x); load 1m {load_start:.2f} at "
          f"start, {os.getloadavg()[0]:.2f} at end; {time.monotonic() - started:.0f} s in all")
    write_result("fanout", {"rounds": rounds, "speedup": round(speedup, 3), "target": TARGET,
                            "settings": vars(args), "load_average_1m_start": round(load_start, 2),
                            "load_average_1m_end": round(os.getloadavg()[0], 2)})


if __name__ == "__main__":
    main()
