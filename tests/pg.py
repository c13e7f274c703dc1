"""A throwaway PostgreSQL server for tests: ``with postgres_server() as url`` gives a ``DATABASE_URL``.

PostgreSQL refuses to run as root, and the tests run as root in CI: there every server command
runs as the Debian ``postgres`` system user (``runuser``), which owns the temporary directory.
The server listens on 127.0.0.1 at a free port, with its Unix socket in the temporary directory
too, and the app connects as a non-superuser role owning its database, as in production. The
server is stopped and its directory removed on the way out, also after a failure.

The binaries come from Debian's ``postgresql`` package (``scripts/setup.sh`` installs it). A
root run without them is a broken setup and fails; an unprivileged developer without them skips.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

logger = logging.getLogger(__name__)

SYSTEM_USER = "postgres"
APP_ROLE = "nas_studio"
APP_DB = "nas_studio"
START_TIMEOUT = 60


def _major_version(initdb: Path) -> int:
    name = initdb.parents[1].name  # /usr/lib/postgresql/<major>/bin/initdb
    return int(name) if name.isdigit() else 0


def find_bindir() -> Path | None:
    """The newest Debian ``/usr/lib/postgresql/<major>/bin`` with ``initdb``, else ``initdb`` on PATH."""
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if found:
        return max(found, key=_major_version).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def require_bindir() -> Path:
    """The binaries, or fail (root: setup.sh should have installed them) / skip (unprivileged)."""
    bindir = find_bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() == 0:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: run scripts/setup.sh, "
                    "which installs the Debian 'postgresql' package", pytrace=False)
    pytest.skip("PostgreSQL server binaries not found and not root to install them "
                "(sudo apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """Runs the server commands as ``postgres`` when we are root, as ourselves otherwise."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.port = _free_port()
        self.as_user = os.geteuid() == 0

    def run(self, *args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        env = {**os.environ, "LC_ALL": "C", "PGTZ": "UTC"}
        result = subprocess.run(cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}"
                               f"{result.stderr}\n{self.tail()}")
        return result

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def prepare(self, superuser_password: str) -> None:
        self.sockets.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(superuser_password + "\n")
        if self.as_user:
            entry = pwd.getpwnam(SYSTEM_USER)
            for path in (self.root, self.sockets, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(pwfile, 0o600)
        self.run("initdb", "-D", str(self.data), "-U", "postgres", f"--pwfile={pwfile}",
                 "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=30 "
                   "-c shared_buffers=16MB -c dynamic_shared_memory_type=mmap")
        self.run("pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(START_TIMEOUT), "-l", str(self.log),
                 "-o", options)

    def stop(self) -> None:
        """``pg_ctl stop`` (fast, then immediate); as a last resort SIGKILL the postmaster."""
        if not (self.data / "postmaster.pid").exists():
            return
        for mode in ("fast", "immediate"):
            try:
                self.run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "20", timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                logger.warning("pg_ctl stop -m %s failed", mode, exc_info=True)
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)


def _create_app_database(port: int, superuser_password: str, app_password: str) -> None:
    import psycopg  # imported here: only the PostgreSQL tests need it

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", password=superuser_password,
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{app_password}'")
        conn.execute(f"CREATE DATABASE {APP_DB} OWNER {APP_ROLE} ENCODING 'UTF8'")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yield ``postgres://nas_studio:<pw>@127.0.0.1:<port>/nas_studio``."""
    bindir = require_bindir()
    root = Path(tempfile.mkdtemp(prefix="nas-pg-"))
    server = _Server(bindir, root)
    superuser_password, app_password = secrets.token_hex(16), secrets.token_hex(16)
    try:
        server.prepare(superuser_password)
        server.start()
        _create_app_database(server.port, superuser_password, app_password)
        logger.info("PostgreSQL %s up on 127.0.0.1:%s", bindir.parent.name, server.port)
        yield f"postgres://{APP_ROLE}:{app_password}@127.0.0.1:{server.port}/{APP_DB}"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

