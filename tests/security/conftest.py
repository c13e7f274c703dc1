"""One real stack for the security tests: small upload limit, tight login throttle, sign-up closed.

Real processes as in production (Redis, two uvicorn workers), no Celery workers (nothing here
needs a job to run); the web server's ``TMPDIR`` is a folder of the stack, so a test can see
whether an upload left anything on disk.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import LiveStack

UPLOAD_LIMIT = 1024 * 1024
LOGIN_FAILURES = 3


@pytest.fixture(scope="module")
def guarded_stack() -> Iterator[LiveStack]:
    root = Path(tempfile.mkdtemp(prefix="nas-studio-security-"))
    (root / "tmp").mkdir()
    stack = LiveStack(root=root, extra_env={
        "DATASET_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT), "TMPDIR": str(root / "tmp"),
        "LOGIN_FAILURES_PER_USER": str(LOGIN_FAILURES), "LOGIN_FAILURES_PER_IP": str(4 * LOGIN_FAILURES),
        "SIGNUP_OPEN": "0",
    })
    try:
        yield stack.start(workers=())
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
