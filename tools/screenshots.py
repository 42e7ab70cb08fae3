"""Take the screenshot gallery from the real app (``make screenshots``).

Serves the app on a free local port with a throwaway, migrated SQLite database, drives
Debian's Chromium (headless) with Playwright, and uses the Chrome DevTools virtual
authenticator in place of Face ID / Touch ID / Windows Hello. Walks every main step of
the app (sign up, opt in, first run, recovery codes, sign in, the account, passkeys,
"Confirm it's you", your data, withdrawing) once on a desktop (1280x800) and once on a
phone (390x844), and writes ``docs/screenshots/<step>-<desktop|phone>.png`` with an
index, ``docs/screenshots/README.md``, that the project README links to.

Nothing is downloaded and nothing outside a temporary folder and ``docs/screenshots/``
is written, so the pictures can be remade at any time and never go stale. ``--out DIR``
writes them elsewhere (for before/after comparisons). See tests/e2e/NOTES.md for the
browser facts this relies on.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from authdemo import create_app, database  # noqa: E402 - after the path is set
from authdemo.clock import FrozenClock  # noqa: E402

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
#: The two sizes issue 17 checks every page at: a laptop and a phone.
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
#: Past the step-up window (STEP_UP_SECONDS, 5 minutes by default): a sensitive action
#: asks the person to confirm it's them.
PAST_STEP_UP = 301


@dataclass(frozen=True)
class Step:
    name: str
    caption: str


#: The gallery, in the order a person meets the pages.
STEPS = (
    Step("signup", "Create an account: a username, nothing else"),
    Step("opt-in", "Choose how to sign in: passkey (with its notice) or password + code"),
    Step("first-run", "First run: the passkey is confirmed and a backup is offered"),
    Step("recovery-codes", "Recovery codes, shown once"),
    Step("signin", "Sign in"),
    Step("account", "The account home"),
    Step("passkeys", "Your passkeys: rename, remove, add another"),
    Step("step-up", "Confirm it's you, before a sensitive action"),
    Step("your-data", "Your data: everything we hold, download, delete"),
    Step("consent", "Your agreement to passkey sign-in: read or withdraw"),
)


@contextmanager
def serve(folder: Path, clock: FrozenClock) -> Iterator[str]:
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
        },
        clock=clock,
    )
    database.upgrade(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    listener.close()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


class Camera:
    def __init__(self, out: Path, size: str) -> None:
        self.out, self.size = out, size

    def shoot(self, page: Page, step: str) -> None:
        assert step in {s.name for s in STEPS}, step
        page.wait_for_load_state("networkidle")
        # No blinking caret or focus ring caught mid-way: move focus off any field.
        page.evaluate("document.activeElement && document.activeElement.blur()")
        path = self.out / f"{step}-{self.size}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def walk(context: BrowserContext, origin: str, camera: Camera, clock: FrozenClock) -> None:
    """Every step of :data:`STEPS`, as one person (``alex-<size>``) takes them."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})

    page.goto("/signup")
    page.fill("#username", f"alex-{camera.size}")
    page.fill("#display_name", "Alex")
    camera.shoot(page, "signup")

    page.click("#continue")
    expect(page).to_have_url(f"{origin}/signup/how")
    camera.shoot(page, "opt-in")

    page.check("#passkey-consent")
    page.click("#create-passkey")
    expect(page).to_have_url(f"{origin}/account")
    expect(page.locator("#passkey-ready")).to_be_visible()
    camera.shoot(page, "first-run")

    page.fill("#new-passkey-name", "Alex's laptop")
    page.click("#save-passkey-name")
    page.click("#backup-recovery-codes")
    expect(page.locator("#recovery-codes")).to_be_visible()
    camera.shoot(page, "recovery-codes")
    page.click("#codes-saved")

    page.click("#signout")
    expect(page).to_have_url(f"{origin}/signin?signed_out=1")
    page.goto("/signin")  # the page as anyone arrives at it
    camera.shoot(page, "signin")

    page.click("#signin-passkey")
    expect(page).to_have_url(f"{origin}/account")
    camera.shoot(page, "account")

    page.click("#manage-passkeys")
    expect(page.locator("#passkey-list")).to_be_visible()
    camera.shoot(page, "passkeys")

    clock.advance(seconds=PAST_STEP_UP)
    page.goto("/privacy")
    page.click("#delete-account")
    expect(page.locator("#reauth-action")).to_be_visible()
    camera.shoot(page, "step-up")

    page.goto("/privacy")
    camera.shoot(page, "your-data")

    page.goto("/account/passkeys/consent")
    camera.shoot(page, "consent")
    page.close()


def write_index(out: Path) -> None:
    lines = [
        "# Screenshots",
        "",
        "Every main step of authdemo on a desktop (1280x800) and a phone (390x844), taken",
        "from the running app in Chromium by `make screenshots` (tools/screenshots.py).",
        "Regenerate them after changing a template or the stylesheet.",
        "",
    ]
    for step in STEPS:
        lines += [
            f"## {step.caption}",
            "",
            f'<img src="{step.name}-desktop.png" alt="{step.caption}, on a desktop" width="640">'
            f' <img src="{step.name}-phone.png" alt="{step.caption}, on a phone" width="195">',
            "",
        ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out / 'README.md'}")


def take(origin: str, home: Path, out: Path, clock: FrozenClock) -> None:
    env: dict[str, str | float | bool] = {
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
            for size, viewport in VIEWPORTS.items():
                context = browser.new_context(base_url=origin, viewport=viewport)  # type: ignore[arg-type]
                try:
                    walk(context, origin, Camera(out, size), clock)
                finally:
                    context.close()
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: run `make system-packages` first", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    clock = FrozenClock()
    with tempfile.TemporaryDirectory(prefix="authdemo-screenshots-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        with serve(folder, clock) as origin:
            take(origin, folder / "home", out, clock)
    if out.resolve() == OUT.resolve():
        taken = {f"{step.name}-{size}.png" for step in STEPS for size in VIEWPORTS}
        for stale in sorted(p for p in out.glob("*.png") if p.name not in taken):
            stale.unlink()  # a step that is gone leaves no picture behind
            print(f"removed {stale}")
        write_index(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
