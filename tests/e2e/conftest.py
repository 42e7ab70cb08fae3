"""Real-browser fixtures: the app served on a free port, Debian's Chromium driven by
Playwright, and the Chrome DevTools virtual authenticator standing in for Face ID,
Touch ID or Windows Hello.

Every test gets its own server and database (so tests never see each other's accounts)
and its own browser context (no shared cookies); the Chromium process is shared by the
whole session because starting it is the slow part. See ``tests/e2e/NOTES.md``
for the machine facts these fixtures rely on.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import make_app
from tests.e2e.harness import LiveServer, VirtualAuthenticators

HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")

#: How long an action or ``expect`` may wait. Generous, because the machines running
#: the suite are shared; a passing test never waits this long.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

#: Without the background-networking flags Chromium keeps trying to reach the internet.
#: The resolver rule makes ``localhost`` mean IPv4 loopback, where the server listens.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]


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
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; `make test` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(
    chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """Headless Chromium (shadows the test-client ``browser`` of ``tests/conftest.py``).

    HOME, XDG and TMPDIR point into pytest's tmp dir so a run leaves nothing behind."""
    home = tmp_path_factory.mktemp("chromium-home")
    env: dict[str, str | float | bool] = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TMPDIR": str(home),
    }
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS, env=env
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookies or storage carried over."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def _is_missing_favicon(message: ConsoleMessage) -> bool:
    # Chromium asks for /favicon.ico on its own; the app has none. Not a page error.
    return message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page whose script errors fail the test: a broken ES module or a
    Content-Security-Policy violation would otherwise pass unnoticed."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _is_missing_favicon(message):
            errors.append(message.text)

    page.on("console", on_console)
    yield page
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def virtual_authenticator(page: Page) -> Iterator[VirtualAuthenticators]:
    cdp = page.context.new_cdp_session(page)
    try:
        yield VirtualAuthenticators(cdp)
    finally:
        cdp.detach()
