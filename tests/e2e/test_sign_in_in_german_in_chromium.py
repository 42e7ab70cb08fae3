"""The sign-in side's scripts speak German to a German browser (issue 19 item 1): what
signin.js, webauthn.js, password-fields.js, copy-key.js and recovery-codes.js show or
write comes from the page's data block, translated on the server (docs/translating.md),
so nothing a script says is left in English.

The browser context is German the way a person's is (``locale="de-DE"``: Chromium then
sends ``Accept-Language: de-DE`` and formats for German); the app offers German.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.support import chromium

PASSWORD = "lila Traktor singt im Morgengrauen"
pytestmark = pytest.mark.parametrize("app_config", [{"LANGUAGES": "en,de"}])


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A German profile (shadows the English one of tests/e2e/conftest.py)."""
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    context.set_default_timeout(chromium.TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    try:
        yield context
    finally:
        context.close()


#: How far the page reaches to the right, against the viewport's width.
WIDTHS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def fits(page: Page) -> bool:
    """Nothing sticks out sideways: German words are long, a heading must still fit."""
    page.wait_for_load_state("load")
    scroll, client = page.evaluate(WIDTHS)
    return bool(scroll <= client)


@pytest.mark.parametrize("url", ["/signin", "/signup", "/signin/recovery", "/signin/lost-passkey"])
def test_the_signed_out_pages_fit_a_phone_in_german(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert fits(page), url


def test_a_passkey_sign_in_that_finds_no_passkey_says_so_in_german(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    """An authenticator with no passkey for the site: the browser reports NotAllowedError,
    and webauthn.js explains it in the page's language."""
    virtual_authenticator.add()
    page.goto("/signin")
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.click("#signin-passkey")
    expect(page.locator("#status")).to_have_text(
        "Die Passkey-Anfrage wurde abgebrochen, oder auf diesem Gerät wurde kein Passkey für "
        "diese Website gefunden. Sie können es erneut versuchen."
    )


def test_a_password_sign_up_in_german_shows_copies_and_downloads_in_german(
    page: Page, context: BrowserContext
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/signup")
    page.fill("#username", "gerda")
    page.click("#continue")
    page.click("#use-password")
    expect(page.locator("h1")).to_have_text("Konto mit Passwort und Einmalcode erstellen")
    page.wait_for_load_state("load")
    reveal = page.locator("button.reveal")
    expect(reveal).to_have_text("Passwort anzeigen")
    assert fits(page)
    page.fill("#password", PASSWORD)
    reveal.click()
    expect(reveal).to_have_text("Passwort verbergen")
    expect(page.locator("#password")).to_have_attribute("type", "text")
    page.click("#continue")

    expect(page).to_have_url(re.compile(r"/signup/password/code$"))
    page.wait_for_load_state("load")
    page.click("#copy-key")
    expect(page.locator("#key-status")).to_have_text(
        "Schlüssel kopiert. Fügen Sie ihn in Ihre Authenticator-App ein."
    )
    key = page.evaluate("navigator.clipboard.readText()")
    page.fill("#code", pyotp.TOTP(key).now())
    page.click("#create-account")

    # A soft hyphen lets the long word break on a phone (the heading fits 390 px).
    expect(page.locator("h1")).to_have_text("Speichern Sie Ihre Wiederherstellungs\u00adcodes")
    assert fits(page)
    page.click("#copy-codes")
    expect(page.locator("#codes-status")).to_have_text(
        "Kopiert. Fügen Sie sie an einem sicheren Ort ein, z. B. in Ihrem Passwortmanager."
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    site = page.inner_text(".brand")
    first, second = copied.splitlines()[:2]
    assert first.startswith(f"Wiederherstellungscodes für gerda bei {site} (")
    assert second == "Jeder Code funktioniert einmal."
    with page.expect_download() as download_info:
        page.click("#download-codes")
    assert Path(download_info.value.path()).read_text(encoding="utf-8") == copied
    expect(page.locator("#codes-status")).to_have_text(
        "Heruntergeladen. Bewahren Sie die Datei an einem sicheren Ort auf."
    )
