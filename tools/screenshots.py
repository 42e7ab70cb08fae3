"""Take the README's screenshots from the real app (``make screenshots``).

Serves the app on a free local port with a throwaway, migrated SQLite database, drives
Debian's Chromium (headless) with Playwright, and uses the Chrome DevTools virtual
authenticator in place of Face ID / Touch ID / Windows Hello. Writes PNGs to
``docs/screenshots/``: the sign-up form, the opt-in screen, the sign-in page and the
passkey management page. Nothing is downloaded and nothing outside a temporary folder
and ``docs/screenshots/`` is written, so the pictures can be remade at any time and never
go stale. See tests/e2e/NOTES.md for the browser facts this relies on.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from authdemo import create_app, database  # noqa: E402 - after the path is set

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
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
#: A synced platform passkey (think iCloud Keychain or Google Password Manager).
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
    "defaultBackupEligibility": True,
    "defaultBackupState": True,
}
#: Narrow enough to read in a README, wide enough for two choices side by side.
VIEWPORT = {"width": 960, "height": 720}


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The app on http://localhost:<free port>, with its own database in ``folder``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    origin = f"http://localhost:{port}"
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{folder / 'screenshots.sqlite3'}",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATA_KEY": secrets.token_urlsafe(32),
            "ORIGIN": origin,
            "RP_ID": "localhost",
            "RP_NAME": "authdemo",
        }
    )
    database.upgrade(app)
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    listener.close()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.wait_for_load_state("networkidle")
    # No blinking caret or focus ring caught mid-way: move focus off any field.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


def take(origin: str, home: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TMPDIR": str(home),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=env
        )
        try:
            context = browser.new_context(base_url=origin, viewport=VIEWPORT)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable", {"enableUI": False})
            cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})

            page.goto("/signup")
            page.fill("#username", "alex")
            page.fill("#display_name", "Alex")
            shoot(page, "signup")

            page.click("#continue")
            expect(page).to_have_url(f"{origin}/signup/how")
            shoot(page, "opt-in")

            page.check("#passkey-consent")
            page.click("#create-passkey")
            expect(page).to_have_url(f"{origin}/account")
            page.wait_for_load_state()
            page.click("#signout")
            expect(page).to_have_url(f"{origin}/signin?signed_out=1")
            page.goto("/signin")  # the page as anyone arrives at it
            shoot(page, "signin")

            page.click("#signin-passkey")
            expect(page).to_have_url(f"{origin}/account")
            page.goto("/account/passkeys")
            page.fill("#passkey-list input[name=name]", "Alex's laptop")
            page.click("#passkey-list .rename-form button")
            expect(page.locator("#passkey-list .passkey-name")).to_have_text("Alex's laptop")
            # The top of the page: the passkey and its details (the opt-in notice below it
            # is the one the opt-in screenshot shows).
            shoot(page, "passkey-management", full_page=False)
        finally:
            browser.close()


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: run `make chromium` first", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="authdemo-screenshots-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        with serve(folder) as origin:
            take(origin, folder / "home")
    return 0


if __name__ == "__main__":
    sys.exit(main())
