"""Playwright (sync API) driving Debian Chromium against the live stack.

Playwright cannot download its own browser here, so it launches the system ``chromium``.
Screenshots go to ``tests/artifacts/`` (git-ignored) so a person can look at every page.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian chromium is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class RequestLog:
    """Every URL the page asked for; ``remote()`` lists those that left the machine."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []  # uncaught page errors and console errors

    def __call__(self, request: Any) -> None:
        self.urls.append(request.url)

    def remote(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, RequestLog]]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    log = RequestLog()
    page.on("request", log)
    page.on("websocket", lambda ws: log.urls.append(ws.url))
    page.on("pageerror", lambda exc: log.errors.append(f"{page.url}: {exc}"))
    page.on("console", lambda m: log.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("response", lambda r: log.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    yield page, log
    if log.errors:
        print("browser errors:\n" + "\n".join(log.errors[:20]))
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
