"""Debian's Chromium, started by Playwright the one way every browser test here needs.

The end-to-end tests (tests/e2e/) and the deployed stage (tests/deployed/) differ only in
the host name mapped to loopback and in what the browser's HOME holds (the deployed stage
puts an NSS database there that trusts its CA; see ``stack.trust_in_nss``). Machine facts
behind the switches: /work/shared/E2E-NOTES.md and tests/e2e/NOTES.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")

#: How long an action or ``expect`` may wait. Generous, because the machines running
#: the suite are shared; a passing test never waits this long.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

#: Without the background-networking switches Chromium keeps trying to reach the internet.
#: No certificate-error switch of any kind: an HTTPS test must see the real trust decision.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_chromium() -> Path:
    """Skip (fail in CI, ``CI=true``) when Debian's Chromium is not installed."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; `make test` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


def arguments(host: str) -> list[str]:
    """The switches, with ``host`` resolved to IPv4 loopback, where the servers listen."""
    return [*BASE_ARGS, f"--host-resolver-rules=MAP {host} 127.0.0.1"]


@contextmanager
def launch(home: Path, host: str) -> Iterator[Browser]:
    """Headless Chromium whose HOME, XDG folders and TMPDIR are ``home`` (a test's tmp
    dir), so a run leaves nothing behind and trusts only what ``home`` holds."""
    env: dict[str, str | float | bool] = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TMPDIR": str(home),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=require_chromium(), headless=True, args=arguments(host), env=env
        )
        try:
            yield browser
        finally:
            browser.close()


def _is_missing_favicon(message: ConsoleMessage) -> bool:
    # Chromium asks for /favicon.ico on its own; the app has none. Not a page error.
    return message.location.get("url", "").endswith("/favicon.ico")


def watch_errors(page: Page) -> list[str]:
    """The page's script errors and console errors (a broken ES module, a
    Content-Security-Policy violation, a failed load), collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _is_missing_favicon(message):
            errors.append(message.text)

    page.on("console", on_console)
    return errors
