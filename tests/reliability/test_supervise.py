"""``scripts/supervise.sh``, which ``make run`` runs each Celery worker under (issue 11 item 6).

A worker that dies is started again while the other services stay up; a command that keeps dying
is restarted with a growing delay, not in a tight loop; a stop passes TERM on and ends the command
(or, past the grace period, its whole process group). Dummy commands stand in for the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]
SUPERVISE = Path(__file__).resolve().parents[2] / "scripts" / "supervise.sh"
SLEEPER = "import os, sys, time\nopen(sys.argv[1], 'a').write(f'{os.getpid()}\\n')\ntime.sleep(600)\n"
STUBBORN = ("import os, signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "open(sys.argv[1], 'a').write(f'{os.getpid()}\\n')\ntime.sleep(600)\n")


def _supervise(tmp_path: Path, code: str, **env: str) -> tuple[subprocess.Popen, Path]:
    runs = tmp_path / "runs"
    with (tmp_path / "supervise.log").open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            ["bash", str(SUPERVISE), "--log", str(tmp_path / "out.log"), "dummy", sys.executable, "-c",
             code, str(runs)],
            env={**os.environ, **env}, stderr=log, start_new_session=True)
    return process, runs


def _poll(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not seen in {timeout} s"
        time.sleep(0.05)


def _pids(runs: Path) -> list[int]:
    return [int(line) for line in runs.read_text().split()] if runs.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rpartition(")")[2].split()[:1] == ["Z"])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_a_killed_command_is_restarted_and_a_stop_ends_it(tmp_path: Path) -> None:
    process, runs = _supervise(tmp_path, SLEEPER)
    try:
        _poll(lambda: len(_pids(runs)) == 1, "the first start")
        first = _pids(runs)[0]
        os.kill(first, signal.SIGKILL)  # as the OOM killer would
        _poll(lambda: len(_pids(runs)) == 2, "a restart")
        second = _pids(runs)[1]
        assert second != first and _alive(second)
        assert "exited with status 137; restarting in 1 s" in (tmp_path / "supervise.log").read_text()

        process.send_signal(signal.SIGTERM)  # make run's stop
        process.wait(timeout=10)
        _poll(lambda: not _alive(second), "the command's end after the stop", timeout=5)
        assert "stopped" in (tmp_path / "supervise.log").read_text()
    finally:
        _stop(process)


def test_a_command_that_keeps_dying_is_restarted_with_back_off(tmp_path: Path) -> None:
    code = "import os, sys\nopen(sys.argv[1], 'a').write(f'{os.getpid()}\\n')\nsys.exit(3)\n"
    process, runs = _supervise(tmp_path, code, SUPERVISE_MAX_DELAY="2")
    try:
        _poll(lambda: len(_pids(runs)) >= 4, "four runs")  # at about 0, 1, 3 and 5 s
        log = (tmp_path / "supervise.log").read_text()
        assert "status 3; restarting in 1 s" in log and "restarting in 2 s" in log
        assert "restarting in 4 s" not in log  # capped at SUPERVISE_MAX_DELAY
        time.sleep(1.0)
        assert len(_pids(runs)) <= 5  # not a tight loop
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        _stop(process)


def test_a_command_that_ignores_term_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    process, runs = _supervise(tmp_path, STUBBORN, SUPERVISE_GRACE="1")
    try:
        _poll(lambda: len(_pids(runs)) == 1, "the start")
        pid = _pids(runs)[0]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        _poll(lambda: not _alive(pid), "the stubborn command's end", timeout=5)
        assert time.monotonic() - started < 10
        assert len(_pids(runs)) == 1  # a stop restarts nothing
    finally:
        _stop(process)
