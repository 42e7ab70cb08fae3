"""Password + one-time code in a real browser: nobody needs biometrics to use the site.

The live server runs on the real clock, so codes are computed with pyotp for "now". The
enrolment code uses the current 30-second step; the next sign-in uses the *next* step's
code (accepted: ±1 step), because a step that was used once is never accepted again.
"""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators

PASSWORD = "purple tractor sings at dawn"


def next_code(key: str) -> str:
    """The next step's code: accepted (±1 step) and never used before."""
    return pyotp.TOTP(key).at(time.time(), counter_offset=1)


def sign_up_with_password(page: Page, username: str) -> tuple[str, list[str]]:
    page.goto("/signup")
    page.fill("#username", username)
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    page.click("#use-password")
    expect(page).to_have_url(re.compile(r"/signup/password$"))
    page.fill("#password", PASSWORD)
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/password/code$"))
    key = page.inner_text("#totp-key").replace(" ", "")
    expect(page.locator(".qr img")).to_be_visible()
    page.fill("#code", pyotp.TOTP(key).now())
    page.click("#create-account")
    expect(page.locator("h1")).to_have_text("Save your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    page.click("#codes-saved")
    expect(page).to_have_url(re.compile(r"/account$"))
    return key, codes


def sign_in_with_password(page: Page, username: str, code: str) -> None:
    """On the sign-in page: the password form, filled in and sent."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#code", code)
    page.click("#signin-password")


def test_password_and_code_sign_up_sign_out_and_sign_in(page: Page) -> None:
    key, codes = sign_up_with_password(page, "pat")
    assert len(codes) == 10
    page.wait_for_load_state()
    page.click("#signout")
    expect(page).to_have_url(re.compile(r"/signin"))
    sign_in_with_password(page, "pat", next_code(key))
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#signed-in-as")).to_have_text("pat")


def test_wrong_code_shows_one_generic_message(context: BrowserContext) -> None:
    # A page of our own: Chromium logs the expected 401 as a console error, which the
    # shared `page` fixture would (rightly, elsewhere) treat as a failure.
    page = context.new_page()
    sign_up_with_password(page, "quinn")
    page.wait_for_load_state()
    page.click("#signout")
    sign_in_with_password(page, "quinn", "000000")
    expect(page.locator("#password-error")).to_contain_text(
        "The username, password or code is not right"
    )


def test_recovery_code_then_new_passkey_in_the_browser(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    _, codes = sign_up_with_password(page, "robin")
    page.wait_for_load_state()
    page.click("#signout")
    page.click("#use-recovery-code")
    page.fill("#username", "robin")
    page.fill("#recovery_code", codes[0])
    page.click("#signin-recovery")
    expect(page).to_have_url(re.compile(r"/account/recover$"))
    expect(page.locator("main")).to_contain_text("9 left")
    page.wait_for_load_state()
    virtual_authenticator.add()
    page.check("#passkey-consent")
    page.click("#add-passkey")
    expect(page).to_have_url(re.compile(r"/signin"), timeout=10_000)
    expect(page.locator("main")).to_contain_text("Your new passkey is ready")
    page.wait_for_load_state()
    page.click("#signin-passkey")
    expect(page).to_have_url(re.compile(r"/account$"))
    assert live_server.query("SELECT count(*) FROM passkeys") == [(1,)]


def test_lost_passkey_help_is_linked_from_sign_in(page: Page) -> None:
    page.goto("/signin")
    page.click("#lost-passkey")
    expect(page.locator("h1")).to_have_text("Lost your passkey or phone?")
    expect(page.locator("main")).to_contain_text("organisation that runs this service")
