"""Live-event latency: worker-side emit -> stored row -> channel group -> web server -> websocket viewer.

Run: ``python -m bench.live_latency [--servers uvicorn:2,daphne:1 --repeat 2]``. Starts the real
stack (``tests/stack.py``: Redis + the web server; no Celery worker is needed), creates a queued
search, connects 1 and then 100 websocket viewers to it, and emits events from a *separate
process* through the worker's ``DbChannelSink`` pointed at the stack's database and Redis.
Latency of an event = viewer receipt time - the event's ``time`` stamp (set by searchcore's
``Emitter`` just before the sink writes the row); both processes read the same clock. Every
viewer must receive every event exactly once, in order. With several ``--servers``
(``server:processes``) the web server is swapped on the same stack and the servers take turns
(``--repeat`` times), so a loaded machine affects them alike.

Targets: p95 <= 50 ms with 1 viewer, <= 250 ms with 100 viewers of one search.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import psutil
from websockets.asyncio.client import connect

from bench._common import format_table, write_result
from bench.pages import parse_servers
from tests.stack import REPO, WEB_SERVER, WEB_WORKERS, LiveStack, live_stack

TARGETS_MS = {1: 50.0, 100: 250.0}


async def _viewer(url: str, token: str, expected: int, ready: asyncio.Event, counter: list[int],
                  total: int) -> list[tuple[int, float]]:
    got: list[tuple[int, float]] = []
    async with connect(url, additional_headers={"Authorization": f"Token {token}"}, max_queue=None) as ws:
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        while len(got) < expected:
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            got.append((event["seq"], (time.time() - event["time"]) * 1000.0))
    return got


async def _round(stack: LiveStack, token: str, search_id: int, after: int, viewers: int, count: int,
                 interval: float) -> dict[str, Any]:
    url = f"{stack.ws_url}/ws/searches/{search_id}/?after={after}"
    ready, counter = asyncio.Event(), [0]
    tasks = [asyncio.create_task(_viewer(url, token, count, ready, counter, viewers)) for _ in range(viewers)]
    await asyncio.wait_for(ready.wait(), timeout=120)
    web, me = psutil.Process(stack.service("web").process.pid), psutil.Process()
    web_cpu, my_cpu = _tree_cpu(web), _cpu(me)
    emitter = await asyncio.create_subprocess_exec(
        *stack.emit_argv(search_id, count, interval), cwd=REPO, env=stack.env, stdout=subprocess.DEVNULL)
    results = await asyncio.gather(*tasks)
    if await emitter.wait() != 0:
        raise RuntimeError("the emitting process failed")
    web_cpu, my_cpu = _tree_cpu(web) - web_cpu, _cpu(me) - my_cpu
    expected = list(range(after + 1, after + count + 1))
    for got in results:
        if [seq for seq, _ in got] != expected:
            raise AssertionError("a viewer missed, repeated or reordered events")
    latencies = sorted(ms for got in results for _, ms in got)
    return {
        "viewers": viewers, "events": count, "interval_ms": interval * 1000.0,
        "deliveries": len(latencies), "every_viewer_got_every_event": True,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "max_ms": round(latencies[-1], 2), "target_p95_ms": TARGETS_MS[viewers],
        "emit_seconds": round(count * interval, 2),
        "web_cpu_s": round(web_cpu, 2),  # the web server's CPU time (all processes) while events went out
        "viewer_cpu_s": round(my_cpu, 2),  # this process's (the viewers') CPU time
    }


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _tree_cpu(process: psutil.Process) -> float:
    """CPU time of a server and its worker processes (uvicorn ``--workers N`` forks N children)."""
    return _cpu(process) + sum(_cpu(child) for child in process.children(recursive=True))


def run(layer: str, servers: list[tuple[str, int]], repeat: int, rates: list[float],
        seconds: float) -> list[dict[str, Any]]:
    """All rounds on one stack: per turn and server, for each event rate, 1 viewer then 100 viewers."""
    # no Celery worker: the emitting process plays it
    with live_stack(workers=(), extra_env={"CHANNEL_LAYER": layer}, web_server=servers[0][0],
                    web_workers=servers[0][1]) as stack:
        token = stack.create_user("bench", "bench-password-1")
        status, body = stack.api(token).post("/api/searches/", {
            "space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 5}})
        if status != 201:
            raise RuntimeError(f"could not create the search: {body}")
        search_id, rounds, after = body["id"], [], 0
        for turn in range(repeat):
            for server, processes in servers:
                if (stack.web_server, stack.web_workers) != (server, processes):
                    stack.restart_web(server, processes)
                for rate in rates:
                    count = max(20, int(rate * seconds))
                    for viewers in (1, 100):
                        result = asyncio.run(
                            _round(stack, token, search_id, after, viewers, count, 1.0 / rate))
                        rounds.append({"channel_layer": layer, "server": server, "processes": processes,
                                       "turn": turn + 1, "events_per_second": rate,
                                       "load_average_1m": round(os.getloadavg()[0], 2), **result})
                        after += count
    return rounds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,50", help="events per second to emit, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="how long each round emits")
    parser.add_argument("--layers", default="core,pubsub", help="channel layers to measure (CHANNEL_LAYER)")
    parser.add_argument("--servers", default=f"{WEB_SERVER}:{WEB_WORKERS}",
                        help="web servers to compare, server:processes, comma-separated (uvicorn, daphne)")
    parser.add_argument("--repeat", type=int, default=1, help="turns per server (interleaved)")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    servers = parse_servers(args.servers)
    rounds = [r for layer in args.layers.split(",")
              for r in run(layer, servers, args.repeat, rates, args.seconds)]
    rows = [[r["channel_layer"], f"{r['server']} x{r['processes']}", r["turn"], r["events_per_second"],
             r["viewers"], r["deliveries"], r["p50_ms"], r["p95_ms"], r["max_ms"], r["web_cpu_s"],
             r["viewer_cpu_s"], r["target_p95_ms"], "yes" if r["p95_ms"] <= r["target_p95_ms"] else "NO",
             r["load_average_1m"]] for r in rounds]
    headers = ["layer", "server x processes", "turn", "events/s", "viewers", "deliveries", "p50 ms", "p95 ms",
               "max ms", "web cpu s", "viewers cpu s", "target p95", "met", "load 1m"]
    print(format_table(headers, rows))
    load = os.getloadavg()[0]
    path = write_result("live_latency", {"cpu_cores_visible": os.cpu_count(), "load_average_1m": load,
                                         "default_server": {"server": WEB_SERVER, "processes": WEB_WORKERS},
                                         "rounds": rounds})
    print(f"wrote {path} (1-minute load average {load:.2f} on {os.cpu_count()} cores)", file=sys.stderr)


if __name__ == "__main__":
    main()
