"""Page latency under load: p95 of the searches list, live and results pages, 20 concurrent clients.

``python -m bench.pages [--clients 20] [--requests 15] [--servers uvicorn:2,daphne:1 --repeat 2]``
starts the real stack (``tests/stack.py``: Redis, Celery workers, the web server) on loopback, signs
a user in through the login form (a real session cookie), runs one quick NAS-Bench-201 search so
the live and results pages have events to render, then has every client thread fetch the three
pages in turn over its own keep-alive connection. A fourth row, the cheapest Django view there is
(a redirect), shows the server's floor in the same run. With several ``--servers``
(``server:processes``) the web server is swapped on the same stack and the servers take turns
(``--repeat`` times), so a loaded machine affects them alike. Prints a table and writes
``bench/results/pages.json``. Target: p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import re
import statistics
import threading
import time
import urllib.parse
from typing import Any

from bench._common import format_table, write_result
from tests.stack import WEB_SERVER, WEB_WORKERS, LiveStack, live_stack

logger = logging.getLogger(__name__)

TARGET_P95_MS = 150.0
USER, PASSWORD = "bench-pages", "bench-pages-password-1"


class Session:
    """One browser-like client: a keep-alive connection and a session cookie."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        hdrs = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        self.conn.request(method, path, body=body, headers=hdrs)
        response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, dict(response.headers)


def log_in(port: int) -> dict[str, str]:
    session = Session(port)
    _, html, _ = session.request("GET", "/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1).decode()
    body = urllib.parse.urlencode({"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token})
    status, _, headers = session.request("POST", "/login/", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/login/"})
    if status != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login failed: HTTP {status}")
    return session.cookies


def start_search(stack: LiveStack, api_token: str) -> int:
    session = Session(stack.port)
    body = json.dumps({"name": "bench search", "space": "nb201", "controller": "reinforce",
                       "evaluator": "benchmark", "budget": {"max_archs": 60}, "final_budget": "10s"})
    status, data, _ = session.request("POST", "/api/searches/", body, {
        "Content-Type": "application/json", "Authorization": f"Token {api_token}"})
    if status != 201:
        raise RuntimeError(f"could not start the search: HTTP {status} {data[:300]!r}")
    search_id = json.loads(data)["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        _, data, _ = session.request("GET", f"/api/searches/{search_id}/", headers={
            "Authorization": f"Token {api_token}"})
        if json.loads(data)["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(1)
    return search_id


def run_clients(port: int, cookies: dict[str, str], pages: dict[str, tuple[str, int]], clients: int,
                rounds: int) -> dict[str, list[float]]:
    """``pages``: name -> (path, expected HTTP status); every client fetches each page per round."""
    timings: dict[str, list[float]] = {name: [] for name in pages}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client() -> None:
        session = Session(port, cookies)
        session.request("GET", next(iter(pages.values()))[0])  # warm the connection
        start.wait()
        for _ in range(rounds):
            for name, (path, expected) in pages.items():
                t0 = time.perf_counter()
                status, _, _ = session.request("GET", path)
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    timings[name].append(elapsed)
                    if status != expected:
                        errors.append(f"{path}: HTTP {status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def parse_servers(text: str) -> list[tuple[str, int]]:
    """``"uvicorn:2,daphne:1"`` -> ``[("uvicorn", 2), ("daphne", 1)]`` (processes default to 1)."""
    servers = []
    for item in text.split(","):
        name, _, processes = item.strip().partition(":")
        servers.append((name, int(processes or 1)))
    return servers


def summarise(timings: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {name: {"requests": len(values), "p50_ms": round(statistics.median(values), 1),
                   "p95_ms": round(percentile(values, 95), 1), "max_ms": round(max(values), 1)}
            for name, values in timings.items()}


def measure(stack: LiveStack, servers: list[tuple[str, int]], repeat: int, clients: int, rounds: int,
            cookies: dict[str, str], pages: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    """Every server in turn, ``repeat`` times; one result per (server, turn)."""
    results = []
    for turn in range(repeat):
        for server, processes in servers:
            if (stack.web_server, stack.web_workers) != (server, processes):
                stack.restart_web(server, processes)
            run_clients(stack.port, cookies, pages, clients, 2)  # warm every process and connection
            wall = time.perf_counter()
            timings = run_clients(stack.port, cookies, pages, clients, rounds)
            wall = time.perf_counter() - wall
            total = sum(len(v) for v in timings.values())
            results.append({"server": server, "processes": processes, "turn": turn + 1,
                            "requests_per_second": round(total / wall, 1),
                            "load_average_1m": round(os.getloadavg()[0], 2), "pages": summarise(timings)})
            logger.info("%s x%s turn %s: %.0f req/s", server, processes, turn + 1, total / wall)
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15, help="rounds of the three pages per client")
    parser.add_argument("--servers", default=f"{WEB_SERVER}:{WEB_WORKERS}",
                        help="web servers to compare, server:processes, comma-separated (uvicorn, daphne)")
    parser.add_argument("--repeat", type=int, default=1, help="turns per server (interleaved)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    servers = parse_servers(args.servers)
    with live_stack(web_server=servers[0][0], web_workers=servers[0][1]) as stack:
        token = stack.create_user(USER, PASSWORD)
        search_id = start_search(stack, token)
        cookies = log_in(stack.port)
        pages = {"list": ("/searches/", 200), "live": (f"/searches/{search_id}/", 200),
                 "results": (f"/searches/{search_id}/results", 200),
                 # the floor: the cheapest Django view (a signed-in user's redirect away from /login/)
                 "floor: /login/ redirect": ("/login/", 302)}
        results = measure(stack, servers, args.repeat, args.clients, args.requests, cookies, pages)
    rows = []
    for r in results:
        for name, stats in r["pages"].items():
            met = "yes" if stats["p95_ms"] <= TARGET_P95_MS else "NO"
            rows.append([f"{r['server']} x{r['processes']}", r["turn"], name, stats["requests"],
                         stats["p50_ms"], stats["p95_ms"], stats["max_ms"], met, r["requests_per_second"],
                         r["load_average_1m"]])
    headers = ["server x processes", "turn", "page", "requests", "p50 ms", "p95 ms", "max ms",
               f"p95 <= {TARGET_P95_MS:.0f}", "req/s", "load 1m"]
    print(format_table(headers, rows))
    print(f"{args.clients} clients on loopback; {os.cpu_count()} CPU cores visible; load average is the "
          "1-minute figure at the end of each turn")
    payload = {"clients": args.clients, "rounds": args.requests, "target_p95_ms": TARGET_P95_MS,
               "cpu_cores_visible": os.cpu_count(), "default_server": {"server": WEB_SERVER,
                                                                       "processes": WEB_WORKERS},
               "runs": results}
    write_result("pages", payload)
    return payload


if __name__ == "__main__":
    main()
