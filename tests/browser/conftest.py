"""Real-browser fixtures: headless Chromium (the Debian package, driven by the pip
`playwright` package; its own browser download is never used) against the real app,
launched in this process on a free 127.0.0.1 port.

Every page records each request it makes; requests to anything but this machine are
aborted and fail the test. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.settings import load_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests skipped: Chromium is not installed at /usr/bin/chromium "
            "(run `apt-get install -y chromium`; .ci/run does it when root)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class PageLog:
    """The URLs a page asked for, and those that were not on this machine."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.foreign: list[str] = []

    def record(self, url: str) -> bool:
        self.urls.append(url)
        parts = urlsplit(url)
        local = parts.scheme in ("data", "blob", "about") or (
            parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS
        )
        if not local:
            self.foreign.append(url)
        return local

    def assert_local(self) -> None:
        assert self.urls, "the page made no requests at all"
        assert not self.foreign, f"requests left this machine: {self.foreign}"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; `page.log` holds every request it made."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    log = PageLog()

    def route(route: Any) -> None:
        if log.record(route.request.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.log = log
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    try:
        yield pg
    finally:
        context.close()
    log.assert_local()


@pytest.fixture
def serve_app() -> Iterator[Callable[[], str]]:
    """Start the app with the settings the environment gives *now* (call it after
    `with_ollama`/`corpus_index` set them); returns its URL. Stopped after the test."""
    from ui.app import launch

    running: list[Any] = []

    def start() -> str:
        port = _free_port()
        running.append(launch(load_settings(), port=port))
        return f"http://127.0.0.1:{port}/"

    yield start
    for demo in running:
        demo.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def rects(page: Any, **selectors: str) -> dict[str, dict[str, float]]:
    """Where several elements are, measured in one script run, so in one layout: measured
    one `bounding_box()` after another, a layout pass between two calls (the chat refitted
    to the window) can move one element and not the other, and a test compares two
    layouts. Each value has x, y, width and height in viewport pixels, as bounding_box."""
    found: dict[str, dict[str, float] | None] = page.evaluate(
        """(selectors) => Object.fromEntries(Object.entries(selectors).map(([name, sel]) => {
            const el = document.querySelector(sel);
            const r = el && el.getBoundingClientRect();
            return [name, r ? {x: r.x, y: r.y, width: r.width, height: r.height} : null];
        }))""",
        selectors,
    )
    missing = [name for name, rect in found.items() if rect is None]
    assert not missing, f"not on the page: {missing}"
    return {name: rect for name, rect in found.items() if rect is not None}
