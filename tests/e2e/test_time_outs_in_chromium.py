"""Time-outs without loss, in Chromium (issue 17 item 13; WCAG 2.2 success criteria 2.2.1
Timing Adjustable and 2.2.5 Re-authenticating).

Time passes for the page (Playwright's clock) and for the server (its clock moved on)
together, as it would for a person who left the tab open:
- two minutes before the idle time-out a dialog warns, with "Stay signed in" focused;
  staying really extends the session on the server;
- when the time is up the dialog says so and offers to sign in again;
- what a person typed into a form before the time-out is filled in again after they sign
  in again, and nothing was saved in between.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import LiveServer, MovedClock, VirtualAuthenticators
from tests.e2e.test_accessibility import severe_violations
from tests.e2e.test_fallback_flows import sign_in_with_password, sign_up_with_password
from tests.e2e.test_passkey_flows import expect_account_of, sign_out, sign_up

IDLE = timedelta(minutes=30)  # SESSION_IDLE_SECONDS's default
WARNED = IDLE - timedelta(minutes=1, seconds=30)  # inside the two-minute warning


def _time_passes(page: Page, clock: MovedClock, by: timedelta) -> None:
    clock.offset += by
    page.clock.fast_forward(int(by.total_seconds() * 1000))


def _signed_up(page: Page, live_server: LiveServer, username: str) -> MovedClock:
    page.clock.install()  # the page's timers, from the first page on; time still flows
    sign_up(page, username)
    page.wait_for_load_state("load")
    clock = MovedClock()
    live_server.app.extensions["authdemo.clock"] = clock
    return clock


def test_a_warning_comes_before_the_time_out_and_staying_keeps_the_session(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add()
    clock = _signed_up(page, live_server, "alice")
    warning = page.locator("#timeout-warning")
    expect(warning).to_be_hidden()

    _time_passes(page, clock, WARNED)
    expect(warning).to_be_visible()
    expect(page.locator("#timeout-soon")).to_be_visible()
    expect(page.locator("#timeout-soon time")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    expect(page.locator("#stay-signed-in")).to_be_focused()
    page.evaluate(AXE_SCRIPT)
    assert severe_violations(page) == []

    with page.expect_response("**/api/session/keep-alive") as answer:
        page.keyboard.press("Enter")  # one simple action
    assert answer.value.status == 200
    expect(warning).to_be_hidden()

    # Past the first time-out: the page did not warn again yet, and the server agrees.
    _time_passes(page, clock, timedelta(minutes=5))
    expect(warning).to_be_hidden()
    page.reload()
    expect_account_of(page, "alice")


def test_when_the_time_is_up_the_page_says_so_and_offers_to_sign_in_again(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add()
    clock = _signed_up(page, live_server, "alice")
    _time_passes(page, clock, IDLE)
    expect(page.locator("#timeout-ended")).to_be_visible()
    expect(page.locator("#stay-signed-in")).to_be_hidden()
    sign_in = page.locator("#timeout-sign-in")
    expect(sign_in).to_be_focused()
    sign_in.click()
    expect(page).to_have_url(re.compile(r"/signin\?next=/account$"))


def test_what_was_typed_before_a_time_out_is_filled_in_after_signing_in_again(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add()
    clock = _signed_up(page, live_server, "alice")
    page.goto("/account/profile")
    page.fill("#display_name", "Alice in Wonderland")
    clock.offset += IDLE  # the person went away before pressing Save
    page.click("#save-profile")
    expect(page).to_have_url(re.compile(r"/signin\?next=/account/profile$"))
    page.wait_for_load_state("load")

    page.click("#signin-passkey")
    expect(page).to_have_url(re.compile(r"/account/profile$"))
    expect(page.locator("#typed-restored")).to_be_visible()
    expect(page.locator("#display_name")).to_have_value("Alice in Wonderland")
    # Filled in, not saved: the person sends it again, knowingly.
    assert live_server.query("SELECT display_name FROM users") == [(None,)]
    page.click("#save-profile")
    expect(page.locator("#typed-restored")).to_have_count(0)
    assert live_server.query("SELECT display_name FROM users") == [("Alice in Wonderland",)]


def test_what_one_person_typed_is_never_filled_into_anothers_form(
    page: Page, context: BrowserContext, live_server: LiveServer
) -> None:
    # A shared computer: Alice's session times out while she edits her profile; Bob signs
    # in with his password and code in the same tab. (Both use passwords: a virtual
    # authenticator would answer the sign-in page's passkey autofill by itself.)
    bob = context.new_page()
    bob_key, _ = sign_up_with_password(bob, "bob")
    sign_out(bob)
    bob.close()
    sign_up_with_password(page, "alice")
    clock = MovedClock()
    live_server.app.extensions["authdemo.clock"] = clock
    page.goto("/account/profile")
    page.fill("#display_name", "Alice in Wonderland")
    clock.offset += IDLE
    page.click("#save-profile")
    expect(page).to_have_url(re.compile(r"/signin\?next=/account/profile$"))
    page.wait_for_load_state("load")

    sign_in_with_password(page, "bob", pyotp.TOTP(bob_key).at(clock.now()))
    expect(page).to_have_url(re.compile(r"/account/profile$"))
    page.wait_for_load_state("load")
    expect(page.locator("#username")).to_have_value("bob")
    expect(page.locator("#display_name")).to_have_value("")
    expect(page.locator("#typed-restored")).to_have_count(0)
