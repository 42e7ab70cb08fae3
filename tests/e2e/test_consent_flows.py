"""Consent in a real browser (Chromium, CDP virtual authenticator): declining is easy and
is not followed by nagging; consent, sign-in and one-click withdrawal, after which passkey
sign-in is refused and the passkey rows are gone; a material notice change asks again;
kill switches and jurisdiction hide passkeys while password + code keeps working."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN
from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_fallback_flows import sign_in_with_password, sign_up_with_password
from tests.e2e.test_passkey_flows import expect_account_of, sign_out, sign_up
from tests.functional.test_consent_support import MATERIAL_NEXT, publish

#: The version every page shows until a test publishes another.
CURRENT = NOTICES.current(PASSKEY_SIGNIN).version

NOT_SIGNED_IN = (
    "The passkey request was cancelled, or no passkey for this site was found on this "
    "device. You can try again."
)


def next_code(key: str) -> str:
    """A code for the next 30-second step: the current one was used at enrolment, and a
    step is accepted once only (±1 step is allowed)."""
    return pyotp.TOTP(key).at(time.time() + 30)


def ledger(live_server: LiveServer) -> list[tuple[str, str, str]]:
    return [
        (action, version, method)
        for action, version, method in live_server.query(
            "SELECT action, notice_version, method FROM consent_events ORDER BY id"
        )
    ]


def test_no_thanks_then_password_sign_up_works_and_is_not_nagged(
    page: Page, live_server: LiveServer
) -> None:
    key, _ = sign_up_with_password(page, "pat")  # clicks "Use a password ... instead"
    page.wait_for_load_state()
    expect(page.locator("#passkey-consent-state")).to_have_text("Passkey sign-in: off.")
    expect(page.locator("#passkey-invite")).to_have_count(0)
    assert ledger(live_server) == [("declined", CURRENT, "signup:no-thanks-button")]

    sign_out(page)
    sign_in_with_password(page, "pat", next_code(key))
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#passkey-invite")).to_have_count(0)
    assert len(ledger(live_server)) == 1


def test_consent_enrol_sign_in_withdraw_and_passkey_sign_in_is_refused(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # Our own page: the refused sign-in at the end is logged by Chromium as a console
    # error, which the shared `page` fixture would count as a failure.
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    authenticators = VirtualAuthenticators(cdp)
    authenticator = authenticators.add()
    sign_up(page, "alice")
    sign_out(page)
    page.click("#signin-passkey")
    expect_account_of(page, "alice")
    assert ledger(live_server) == [("granted", CURRENT, "signup:passkey-consent-checkbox")]
    [credential] = authenticators.credentials(authenticator)

    page.wait_for_load_state()
    expect(page.locator("#passkey-consent-state")).to_contain_text("Passkey sign-in: on")
    expect(page.locator("#only-way-in")).to_be_visible()
    page.click("#withdraw-consent")  # one click, no step-up

    expect(page).to_have_url(re.compile(r"/account/passkeys/consent/withdrawn$"))
    expect(page.locator("#no-way-in")).to_contain_text("Your account now has no way to sign in.")
    expect(page.locator("#offer-deletion")).to_have_attribute("href", "/privacy/delete")
    # The Signal API call was made (Chromium has it) ...
    expect(page.locator("#signal-status")).to_have_attribute("data-signal", "sent")
    assert live_server.query("SELECT count(*) FROM passkeys") == [(0,)]
    assert [row[0] for row in ledger(live_server)] == ["granted", "withdrawn"]

    # ... and even a device that still offers the passkey cannot sign in with it.
    sign_out(page)
    if not authenticators.credentials(authenticator):
        cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential}
        )
    page.click("#signin-passkey")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(page).to_have_url(re.compile(r"/signin"))
    assert live_server.query("SELECT count(*) FROM user_sessions") == [(0,)]


def test_withdrawal_asks_the_device_to_stop_offering_the_passkey(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    authenticator = virtual_authenticator.add()
    sign_up(page, "alice")
    page.wait_for_load_state()
    page.click("#withdraw-consent")
    expect(page.locator("#signal-status")).to_have_attribute("data-signal", "sent")
    # Chromium's virtual authenticator honours signalAllAcceptedCredentials([]): the
    # passkey is gone from the device too, so the browser finds none to offer.
    assert virtual_authenticator.credentials(authenticator) == []
    sign_out(page)
    page.click("#signin-passkey")
    expect(page.locator("#status")).to_have_text(NOT_SIGNED_IN)


def test_notice_change_asks_again_at_the_next_sign_in(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")
    sign_out(page)
    publish(live_server.app, MATERIAL_NEXT)  # a new, material version is deployed

    page.click("#signin-passkey")
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent/renew\?next="))
    expect(page.locator("#notice-changes")).to_have_text(MATERIAL_NEXT.changes)
    # A passkey is alice's only way in: no password or code is said to keep working, and
    # the "no" is warned about, with the ways to set up another way in first.
    expect(page.locator("#reconsent-keeps-working")).to_have_count(0)
    expect(page.locator("#only-way-in")).to_be_visible()
    expect(page.locator("#offer-password-code")).to_be_visible()
    expect(page.locator("#reconsent-withdraw")).to_have_text("No, stop using passkeys anyway")
    page.wait_for_load_state()
    page.click("#reconsent-agree")
    expect_account_of(page, "alice")
    assert ledger(live_server)[-1] == ("granted", MATERIAL_NEXT.version, "reconsent:agree-button")


def test_opting_in_later_from_the_consent_page(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    sign_up_with_password(page, "pat")  # "No thanks" to passkeys at sign-up
    page.wait_for_load_state()
    # No invitation after a "No thanks", but the consent page is always one link away.
    page.click("#passkey-opt-in-link a")
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent$"))
    page.wait_for_load_state()
    page.click("#add-passkey")
    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#passkey-consent")).to_be_focused()

    page.check("#passkey-consent")
    page.click("#add-passkey")  # signed in moments ago: no need to confirm it's you
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#passkey-consent-state")).to_contain_text("Passkey sign-in: on")
    assert live_server.query("SELECT count(*) FROM passkeys") == [(1,)]
    assert ledger(live_server) == [
        ("declined", CURRENT, "signup:no-thanks-button"),
        ("granted", CURRENT, "account:passkey-consent-checkbox"),
    ]


@pytest.mark.parametrize(
    "app_config",
    [
        pytest.param(
            {"PASSKEY_ENROLMENT_ENABLED": "false", "PASSKEY_SIGNIN_ENABLED": "false"},
            id="kill-switch",
        ),
        pytest.param({"JURISDICTION": "US", "PASSKEY_JURISDICTIONS": "EU"}, id="jurisdiction"),
    ],
)
def test_passkeys_off_are_hidden_with_a_reason_and_password_and_code_work(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/signin")
    expect(page.locator("#signin-passkey")).to_have_count(0)
    expect(page.locator("#passkeys-off")).to_be_visible()

    key, _ = sign_up_with_password(page, "pat")  # the opt-in screen offers only this
    page.wait_for_load_state()
    expect(page.locator("#passkeys-unavailable")).to_be_visible()
    sign_out(page)
    sign_in_with_password(page, "pat", next_code(key))
    expect(page).to_have_url(re.compile(r"/account$"))
    assert live_server.query("SELECT count(*) FROM consent_events") == [(0,)]


#: Before any page script: a browser with no WebAuthn (an older one, or one that turned it
#: off), as ``passkeysSupported()`` in static/js/webauthn.js tests for it.
NO_WEBAUTHN = "delete window.PublicKeyCredential;"


def expect_opt_in_refused_here(page: Page, button: str, words: str) -> None:
    status = page.locator("#status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_have_text(words)
    expect(page.locator(button)).to_be_disabled()


def test_a_browser_without_passkeys_is_told_so_on_every_opt_in_form(page: Page) -> None:
    """The sign-up step, the consent page and the passkeys page each say it in their own
    words, and keep their button disabled; password + code still works."""
    page.add_init_script(NO_WEBAUTHN)
    page.goto("/signup")
    page.fill("#username", "pat")
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    expect_opt_in_refused_here(
        page,
        "#create-passkey",
        "This browser can't use passkeys. Please use a password and a one-time code instead.",
    )
    sign_up_with_password(page, "sam")
    page.goto("/account/passkeys/consent")
    expect_opt_in_refused_here(
        page,
        "#add-passkey",
        "This browser can't use passkeys. Your password and one-time code still work.",
    )
    page.goto("/account/passkeys")
    expect_opt_in_refused_here(
        page,
        "#add-passkey",
        "This browser can't create passkeys. You can add one from another device.",
    )
