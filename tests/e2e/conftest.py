"""Real-browser fixtures: the app served on a free port, Debian's Chromium driven by
Playwright, and the Chrome DevTools virtual authenticator standing in for Face ID,
Touch ID or Windows Hello.

Every test gets its own server and database (so tests never see each other's accounts)
and its own browser context (no shared cookies); the Chromium process is shared by all
the tests of a pytest worker because starting it is the slow part (tests/support/
chromium.py starts it). See ``tests/e2e/NOTES.md`` for the machine facts these fixtures
rely on.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import BaseWSGIServer, make_server

from authdemo.clock import FrozenClock
from tests.conftest import make_app
from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.support import chromium
from tests.support.accounts import QUICK_HASHING, People
from tests.support.live_site import Site, Window

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


# --- the app, served for real ---------------------------------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings for this test's app on top of ``make_app``'s; parametrize to change them,
    e.g. ``@pytest.mark.parametrize("app_config", [{"ALGORITHMS": "-7"}])``."""
    return {}


@pytest.fixture
def live_server(tmp_path: Path, app_config: dict[str, Any]) -> Iterator[LiveServer]:
    # Bind first so the app can be told its origin (the port is part of it).
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    origin = f"http://localhost:{port}"
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    app = make_app(app_dir, ORIGIN=origin, RP_ID="localhost", **app_config)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, app, threaded=True, fd=listener.fileno()
    )
    listener.close()  # the server works on its own duplicate of the socket
    # A short poll interval keeps shutdown (once per test) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield LiveServer(url=origin, app=app, database=app_dir / "test.sqlite3")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium (shadows the test-client ``browser`` of ``tests/conftest.py``),
    one per pytest worker; ``localhost`` resolves to IPv4 loopback, where the server
    listens. Its HOME is in pytest's tmp dir, so a run leaves nothing behind."""
    chromium.require_chromium()
    with chromium.launch(tmp_path_factory.mktemp("chromium-home"), "localhost") as browser:
        yield browser


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookies or storage carried over."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(chromium.TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page whose script errors fail the test: a broken ES module or a
    Content-Security-Policy violation would otherwise pass unnoticed."""
    page = context.new_page()
    errors = chromium.watch_errors(page)
    yield page
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def virtual_authenticator(page: Page) -> Iterator[VirtualAuthenticators]:
    cdp = page.context.new_cdp_session(page)
    try:
        yield VirtualAuthenticators(cdp)
    finally:
        cdp.detach()


# --- one server and one page for a module that walks every account state -----------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A live server whose app is switched per person (tests/support/live_site.py)."""
    folder, clock = tmp_path_factory.mktemp("site"), FrozenClock()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    origin = f"http://localhost:{port}"

    def app_factory(**settings: str) -> Flask:
        return make_app(
            folder, clock, ORIGIN=origin, RP_ID="localhost", **QUICK_HASHING, **settings
        )

    site = Site(origin, People(app_factory, clock))
    server = make_server("127.0.0.1", port, site, threaded=True, fd=listener.fileno())
    listener.close()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def window(browser: Browser, site: Site) -> Iterator[Window]:
    """One page, reused: each test gives it the person's cookies and place."""
    context = browser.new_context(base_url=site.url)
    context.set_default_timeout(chromium.TIMEOUT_MS)
    try:
        page = context.new_page()
        yield Window(page, chromium.watch_errors(page))
    finally:
        context.close()
