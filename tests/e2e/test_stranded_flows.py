"""Nobody is stranded, in Chromium (issue 14 item 4, decision 0013).

A passkey-only person withdraws consent (one click), then comes back more than the
step-up window later: the server's clock is moved on, as time passes for a real person.
The "Confirm it's you" page explains that the account has no way in and links to what it
can still do; each of those works without step-up. A withdrawal that would leave nothing
to confirm with, pressed from a sign-in older than the window, first asks "Confirm it's
you" with the passkey, then withdraws (decision 0013: an old session cannot take over).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.harness import LiveServer, MovedClock, VirtualAuthenticators
from tests.e2e.test_passkey_flows import sign_up


def _withdraw_and_wait(page: Page, live_server: LiveServer) -> MovedClock:
    sign_up(page, "alice")
    page.click("#withdraw-consent")  # one click, no step-up
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent/withdrawn$"))
    expect(page.locator("#no-way-in")).to_contain_text("Your account now has no way to sign in.")
    expect(page.locator("#no-way-in-erasure")).to_contain_text("30 days after you last use it")
    clock = MovedClock()
    live_server.app.extensions["authdemo.clock"] = clock
    clock.offset = timedelta(minutes=6)  # past STEP_UP_SECONDS (5 minutes)
    return clock


def _step_up_page_explains(page: Page) -> None:
    page.goto("/privacy/export")
    expect(page).to_have_url(re.compile(r"/reauth\?"))
    expect(page.locator("#reauth-action")).to_contain_text("download a copy of your data")
    expect(page.locator("#no-way-in")).to_be_visible()
    expect(page.locator("#reauth-passkey")).to_have_count(0)
    expect(page.locator("#reauth-cancel")).to_have_attribute("href", "/privacy")


def test_withdrawn_person_past_the_step_up_window_can_delete_the_account(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    _withdraw_and_wait(page, live_server)
    _step_up_page_explains(page)
    page.click("#option-delete")
    expect(page).to_have_url(re.compile(r"/privacy/delete$"))
    page.fill("#confirm_username", "alice")
    page.click("#confirm-delete")
    expect(page.locator("#goodbye")).to_have_text("Your account is deleted")
    assert live_server.query("SELECT count(*) FROM users") == [(0,)]


def test_withdrawn_person_past_the_step_up_window_can_set_up_password_and_code(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    clock = _withdraw_and_wait(page, live_server)
    _step_up_page_explains(page)
    page.click("#option-password-code")
    expect(page).to_have_url(re.compile(r"/account/password-code/setup$"))
    page.fill("#password", "a long and private passphrase")
    page.click("#continue")
    key = page.inner_text("#totp-key").replace(" ", "")
    page.fill("#code", pyotp.TOTP(key).at(clock.now()))
    page.click("#finish-setup")
    expect(page.locator("code").first).to_be_visible()  # the new recovery codes
    assert live_server.query("SELECT count(*) FROM totp_credentials") == [(1,)]
    # Now it has a way in again: the same page asks to confirm with it.
    page.goto("/privacy/export")
    expect(page.locator("#no-way-in")).to_have_count(0)
    expect(page.locator("#reauth-password")).to_be_visible()


def test_withdrawn_person_past_the_step_up_window_can_opt_in_again_with_a_new_passkey(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    _withdraw_and_wait(page, live_server)
    page.click("#offer-passkey")
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent$"))
    page.check("#passkey-consent")
    page.click("#add-passkey")
    expect(page).to_have_url(re.compile(r"/account$"))
    assert live_server.query("SELECT count(*) FROM passkeys") == [(1,)]
    actions = [row[0] for row in live_server.query("SELECT action FROM consent_events")]
    assert actions == ["granted", "withdrawn", "granted"]


def test_withdrawing_the_only_passkey_from_an_old_sign_in_confirms_with_it_first(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")
    clock = MovedClock()
    live_server.app.extensions["authdemo.clock"] = clock
    clock.offset = timedelta(minutes=10)  # the page left open, past STEP_UP_SECONDS
    page.goto("/account")
    page.wait_for_load_state()
    page.click("#withdraw-consent")
    expect(page).to_have_url(re.compile(r"/reauth\?"))
    expect(page.locator("#reauth-action")).to_contain_text("stop using passkeys")
    assert live_server.query("SELECT count(*) FROM passkeys") == [(1,)]
    page.wait_for_load_state()
    page.click("#reauth-passkey")
    expect(page).to_have_url(re.compile(r"^[^?]*/account$"))
    page.wait_for_load_state()
    page.click("#withdraw-consent")
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent/withdrawn$"))
    assert live_server.query("SELECT count(*) FROM passkeys") == [(0,)]
