"""The real stack for integration, e2e and benchmark runs: Redis, Celery workers and the web server.

``LiveStack.start()`` picks free ports, makes a temporary directory for the SQLite database,
media and logs, migrates, and starts each service as a subprocess in its own session (so its
children can be stopped with it), waiting until each one is ready. ``stop()`` ends them all,
also after a failed start. The test process never imports the app's settings for this stack:
every service gets its configuration through environment variables, as in production.

The web server is the one ``scripts/run.sh`` uses (``WEB_SERVER``/``WEB_WORKERS`` defaults
below); benchmarks may pick another (``web_server``/``web_workers``) or swap it on a running
stack (``restart_web``) to compare servers on the same database and Redis.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_TIMEOUT = 90.0
WEB_SERVERS = ("uvicorn", "daphne")
WEB_SERVER, WEB_WORKERS = "uvicorn", 2  # what scripts/run.sh serves with
# A test's worker name -> its queues, as scripts/run.sh starts them (issue 10 item 2): `searches` and
# `childrenN` are the cpu workers; `gpu` takes only the gpu searches queue, so it advertises class gpu
# (webapp.workers) even on a machine without one, where the runner fails its searches for want of CUDA.
WORKER_QUEUES = {"searches": "searches.cpu", "children": "children.cpu", "gpu": "searches.gpu",
                 "datasets": "datasets"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class LiveStack:
    root: Path
    port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    web_server: str = WEB_SERVER
    web_workers: int = WEB_WORKERS

    # -- addresses --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def env(self) -> dict[str, str]:
        """The environment every service (and any helper process) runs with."""
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "webapp.settings", "SECRET_KEY": "live-stack-tests-only",
            "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{self.root / 'db.sqlite3'}", "VAR_DIR": str(self.root),
            "MEDIA_ROOT": str(self.root / "media"), "STATIC_ROOT": str(self.root / "static"),
            "REDIS_URL": self.redis_url, "NAS_DEVICE": "cpu", "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        })
        env.update(self.extra_env)
        return env

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, workers: tuple[str, ...] = ("searches", "datasets")) -> LiveStack:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        try:
            self._start_redis()
            self.manage("migrate", "--noinput")
            for queue in workers:
                self._start_worker(queue)
            self._start_web()
        except BaseException:
            self.dump_logs()
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def dump_logs(self) -> None:
        for service in self.services:
            sys.stderr.write(f"--- {service.name} (last lines of {service.log}) ---\n{service.tail()}\n")

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def create_user(self, username: str, password: str) -> str:
        """Create (or reset) a user in the stack's database; returns its API token."""
        return self.manage("ensure_user", username, password).strip().splitlines()[-1]

    def emit_argv(self, search_id: int, count: int, interval: float = 0.0) -> list[str]:
        """A command that emits ``count`` ``log`` events for a search the way the worker does
        (``DbChannelSink``: stored row, then channel-group push); run it with ``env``."""
        return [PYTHON, "-m", "tests.stack", "emit", str(search_id), str(count), str(interval)]

    def emit(self, search_id: int, count: int = 1, interval: float = 0.0) -> None:
        subprocess.run(self.emit_argv(search_id, count, interval), cwd=REPO, env=self.env, check=True,
                       timeout=120, capture_output=True)

    def restart_web(self, server: str, workers: int = 1) -> None:
        """Replace the running web server with ``server`` x ``workers`` processes (same port)."""
        web = self.service("web")
        web.stop()
        self.services.remove(web)
        self.web_server, self.web_workers = server, workers
        self._start_web()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def api(self, token: str | None = None) -> ApiClient:
        return ApiClient(self.base_url, token)

    # -- services ---------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> Service:
        log = self.root / "logs" / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def _start_redis(self) -> None:
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        service = self._spawn("redis", [
            shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1",
            "--port", str(self.redis_port),
            "--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no",
        ])
        _wait(service, lambda: _redis_ping(self.redis_port), "redis")

    def _start_worker(self, name: str) -> None:
        """A worker named ``name`` for the queues ``WORKER_QUEUES`` gives it; a digit suffix names more
        than one (``children1``, ``children2``: both take `children.cpu`, as separate processes with their
        own node names)."""
        kind = name.rstrip("0123456789")
        queue = WORKER_QUEUES.get(kind, kind)
        reuse = ["--max-tasks-per-child", "50"] if kind == "children" else []  # as scripts/run.sh
        service = self._spawn(f"worker-{name}", [
            PYTHON, "-m", "celery", "-A", "worker.app", "worker", "-Q", queue, "--concurrency", "1",
            "-n", f"{name}@%h", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
            *reuse,
        ])
        _wait(service, lambda: " ready." in service.log.read_text(errors="replace"), f"worker {name}")

    def _start_web(self) -> None:
        """``web``: the ASGI server (all its processes in one session, stopped together)."""
        if self.web_server not in WEB_SERVERS:
            raise ValueError(f"web_server must be one of {WEB_SERVERS}, not {self.web_server!r}")
        if self.web_server == "daphne":
            if self.web_workers != 1:
                raise ValueError("daphne serves from one process")
            argv = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                    "webapp.asgi:application"]
        else:
            argv = [PYTHON, "-m", "uvicorn", "webapp.asgi:application", "--host", "127.0.0.1",
                    "--port", str(self.port), "--workers", str(self.web_workers), "--lifespan", "off",
                    "--no-access-log", "--timeout-graceful-shutdown", "5"]
        service = self._spawn("web", argv)
        _wait(service, lambda: self._web_ready(service), f"{self.web_server} web server")

    def _web_ready(self, service: Service) -> bool:
        if self.web_server == "uvicorn":  # every worker has imported the app (not only the first)
            started = service.log.read_text(errors="replace").count("Started server process")
            if started < self.web_workers:
                return False
        return _http_up(f"{self.base_url}/api/spaces/")


def _wait(service: Service, ready: Any, what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{what} exited with {service.process.returncode}:\n{service.tail()}")
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{service.tail()}")


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def _http_up(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True  # any HTTP answer (401 here) means the server is serving
    return True


class ApiClient:
    """A tiny JSON/multipart client for the stack's API (standard library only), authenticated by token."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base_url + path, data=body, method=method,
                                         headers=headers or {})
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def get(self, path: str) -> tuple[int, Any]:
        status, body = self.request("GET", path)
        return status, json.loads(body)

    def post(self, path: str, data: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, body = self.request("POST", path, json.dumps(data).encode(), "application/json", headers)
        return status, json.loads(body)

    def upload(self, path: str, fields: dict[str, str], file_field: str, file_path: Path,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                f'filename="{file_path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n')
        parts.append(head.encode())
        body = b"".join(parts) + file_path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        status, raw = self.request("POST", path, body, f"multipart/form-data; boundary={boundary}", headers)
        return status, json.loads(raw)

    def validated(self, dataset_id: int, timeout: float = 120.0) -> dict[str, Any]:
        """The dataset's detail once its validation has ended (ready or failed)."""
        return self.wait_for(f"/api/datasets/{dataset_id}/", lambda b: b["status"] != "validating",
                             timeout=timeout)

    def ready_dataset(self, file_path: Path, name: str = "tiny cifar", timeout: float = 120.0) -> int:
        """Upload ``file_path``, wait for its validation and assert it is ready; returns its id."""
        status, body = self.upload("/api/datasets/", {"name": name}, "file", file_path)
        assert status == 201, body
        detail = self.validated(body["id"], timeout)
        assert detail["status"] == "ready", detail
        return int(body["id"])

    def events(self, search_id: int) -> list[dict[str, Any]]:
        """Every stored event of a search, in order."""
        status, body = self.get(f"/api/searches/{search_id}/events?after=0&limit=100000")
        assert status == 200, body
        return body["events"]

    def wait_events(self, search_id: int, done: Any, what: str,
                    timeout: float = 180.0) -> list[dict[str, Any]]:
        """Poll the search's events until ``done(events)``; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events(search_id)
            if done(events):
                return events
            time.sleep(0.2)
        raise TimeoutError(f"search {search_id}: {what} not seen in {timeout:.0f} s")

    def wait_for(self, path: str, done: Any, timeout: float = 120.0, every: float = 0.25) -> Any:
        """Poll ``GET path`` until ``done(body)``; returns the body."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.get(path)
            if status == 200 and done(body):
                return body
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} not done after {timeout:.0f} s: {body}")
            time.sleep(every)


@contextlib.contextmanager
def live_stack(extra_env: dict[str, str] | None = None, keep: bool = False,
               workers: tuple[str, ...] = ("searches", "datasets"), web_server: str = WEB_SERVER,
               web_workers: int = WEB_WORKERS) -> Iterator[LiveStack]:
    """Start a stack in a fresh temporary directory; stop it (and remove the directory) afterwards."""
    root = Path(tempfile.mkdtemp(prefix="nas-studio-stack-"))
    stack = LiveStack(root=root, extra_env=dict(extra_env or {}), web_server=web_server,
                      web_workers=web_workers)
    try:
        yield stack.start(workers=workers)
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _emit_events(search_id: int, count: int, interval: float) -> None:
    import django

    django.setup()
    from searchcore.events import Emitter
    from worker.sink import DbChannelSink

    sink = DbChannelSink(search_id)
    emitter = Emitter(sink, last_seq=sink.last_seq)
    for i in range(count):
        emitter.emit("log", level="info", message=f"test event {i + 1} of {count}")
        if interval:
            time.sleep(interval)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "emit":
        _emit_events(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: python -m tests.stack emit SEARCH_ID COUNT INTERVAL")
