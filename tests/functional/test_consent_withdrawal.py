"""Withdrawal as easy as giving (GDPR Art 7(3)): one click, no step-up; passkey sign-in
stops at once because the passkeys are deleted; the browser is asked to forget them;
someone left with no way in is told so plainly and offered deletion; forged or replayed
withdrawals are refused with the ledger unchanged."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import Browser, PasswordAccount, totp_code
from tests.functional.test_consent_support import (
    audit_details,
    consent_body,
    current_notice,
    ledger,
    notice_fields,
    page,
    passkey_count,
    sign_up_with_passkey,
    user_id,
)
from tests.support.authenticator import SoftwareAuthenticator, b64url

WITHDRAW = "/account/passkeys/consent/withdraw"
WITHDRAWN = "/account/passkeys/consent/withdrawn"
_PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.S)


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    """Signed up with a passkey (her only way in) and signed in."""
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    return browser


def add_password_and_code(browser: Browser, clock: FrozenClock) -> PasswordAccount:
    """A passkey user sets up password + code as a backup (fresh sign-in: no step-up)."""
    password = "a long and private passphrase"
    assert (
        browser.post_form("/account/password-code/setup", {"password": password}).status_code == 302
    )
    confirm = page(browser, "/account/password-code/confirm")
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', confirm).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = browser.post_form("/account/password-code/confirm", {"code": totp_code(key, clock)})
    assert done.status_code == 200
    return PasswordAccount("alice", password, key, [])


def withdraw(app: Flask, browser: Browser, **extra: str) -> Any:
    return browser.post_form(WITHDRAW, {**notice_fields(app), **extra})


def page_data(text: str) -> dict[str, Any]:
    match = _PAGE_DATA.search(text)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


# --- the control ---------------------------------------------------------------------


def test_account_page_shows_passkey_sign_in_on_with_a_one_click_withdraw_control(
    alice: Browser,
) -> None:
    text = page(alice, "/account")
    assert re.search(r'id="passkey-consent-state">Passkey sign-in: <strong>on</strong>', text)
    form = re.search(
        r'<form method="post" action="/account/passkeys/consent/withdraw".*?</form>', text, re.S
    )
    assert form is not None
    assert 'id="withdraw-consent"' in form.group(0)
    assert "confirm" not in form.group(0).lower()  # nothing more to fill in


def test_passkeys_as_the_only_way_in_are_flagged_with_the_alternatives_first(
    alice: Browser,
) -> None:
    text = page(alice, "/account")
    warning = re.search(r'<div class="warning" id="only-way-in".*?</div>', text, re.S)
    assert warning is not None
    assert 'href="/account/password-code/setup"' in warning.group(0)
    assert 'href="/account/password-code"' in warning.group(0)
    assert "Withdraw anyway" in text


def test_no_only_way_in_warning_when_password_and_code_remain(
    alice: Browser, clock: FrozenClock
) -> None:
    add_password_and_code(alice, clock)
    assert 'id="only-way-in"' not in page(alice, "/account")


# --- withdrawing ------------------------------------------------------------------------


def test_withdrawal_leaving_a_way_in_needs_no_step_up_and_deletes_the_passkeys_at_once(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    # With a password + code left, withdrawing is one click from any session. (One that
    # would leave nothing to confirm with first asks "Confirm it's you", as adding a
    # passkey does: tests/functional/test_old_session_takeover.py, decision 0013.)
    add_password_and_code(alice, clock)
    clock.advance(minutes=20)  # long past the step-up window; still signed in
    response = withdraw(app, alice)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(WITHDRAWN)
    assert passkey_count(app) == 0
    granted, withdrawn = ledger(app)
    assert (granted.action, withdrawn.action) == ("granted", "withdrawn")
    assert withdrawn.user_ref == user_id(app, "alice")
    assert withdrawn.method == "account:withdraw-button"
    assert withdrawn.notice_sha256 == current_notice(app).sha256
    assert audit_details(app, "consent.withdrawn") == [
        {
            "purpose": "passkey_signin",
            "notice_version": current_notice(app).version,
            "via": "account:withdraw-button",
        }
    ]
    assert len(audit_details(app, "passkey.removed")) == 1


def test_passkey_sign_in_is_refused_after_withdrawal(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    withdraw(app, alice)
    alice.sign_out()
    refused = alice.sign_in_with_passkey(authenticator)
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert alice.client.get("/account").status_code == 302


def test_withdrawn_page_asks_the_browser_to_forget_every_passkey(
    app: Flask, alice: Browser
) -> None:
    withdraw(app, alice)
    text = page(alice, WITHDRAWN)
    with app.app_context():
        handle = db.session.get(User, user_id(app, "alice")).user_handle  # type: ignore[union-attr]
    assert page_data(text)["signal"] == {
        "rpId": "localhost",
        "userId": b64url(handle),
        "allAcceptedCredentialIds": [],
    }
    assert "js/consent-withdrawn.js" in text


def test_withdrawn_page_never_signals_while_the_account_has_passkeys(
    alice: Browser,
) -> None:
    response = alice.client.get(WITHDRAWN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/passkeys/consent")


def test_withdrawing_the_only_way_in_says_so_plainly_and_offers_deletion(
    app: Flask, alice: Browser
) -> None:
    withdraw(app, alice)
    text = page(alice, WITHDRAWN)
    assert 'id="no-way-in"' in text
    assert "Your account now has no way to sign in." in text
    assert 'href="/privacy/delete" id="offer-deletion"' in text


def test_withdrawing_with_password_and_code_left_keeps_that_way_in(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    account = add_password_and_code(alice, clock)
    withdraw(app, alice)
    text = page(alice, WITHDRAWN)
    assert 'id="no-way-in"' not in text
    assert 'id="way-in-left"' in text
    alice.sign_out()
    clock.advance(seconds=30)
    assert alice.sign_in_with_password(account, clock).status_code == 302
    assert "Passkey sign-in: <strong>off</strong>" in page(alice, "/account")


def test_withdrawal_deletes_only_that_persons_passkeys(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    bob = new_browser()
    assert sign_up_with_passkey(app, bob, SoftwareAuthenticator(), "bob").status_code == 200
    withdraw(app, alice)
    assert passkey_count(app, "alice") == 0
    assert passkey_count(app, "bob") == 1


def test_withdrawal_cancels_a_passkey_addition_in_flight(app: Flask, alice: Browser) -> None:
    options = alice.post_json("/api/passkeys/add/options", consent_body(app))
    assert options.status_code == 200
    withdraw(app, alice)
    another_device = SoftwareAuthenticator()
    late = alice.post_json("/api/passkeys/add/verify", another_device.create(options.get_json()))
    assert late.status_code == 400
    assert passkey_count(app) == 0


def test_opting_in_again_after_withdrawal_records_a_new_consent(app: Flask, alice: Browser) -> None:
    withdraw(app, alice)
    options = alice.post_json("/api/passkeys/add/options", consent_body(app))
    assert options.status_code == 200
    new = SoftwareAuthenticator()
    assert (
        alice.post_json("/api/passkeys/add/verify", new.create(options.get_json())).status_code
        == 200
    )
    assert [row.action for row in ledger(app)] == ["granted", "withdrawn", "granted"]
    assert ledger(app)[-1].method == "account:passkey-consent-checkbox"


def test_adding_a_second_passkey_is_not_a_new_decision(app: Flask, alice: Browser) -> None:
    options = alice.post_json("/api/passkeys/add/options", consent_body(app))
    assert options.status_code == 200
    assert [row.action for row in ledger(app)] == ["granted"]


# --- forged and replayed withdrawals ---------------------------------------------------------


def test_replayed_withdrawal_is_refused_and_leaves_the_ledger_unchanged(
    app: Flask, alice: Browser
) -> None:
    withdraw(app, alice)
    before = ledger(app)
    again = withdraw(app, alice)
    assert again.status_code == 409
    assert ledger(app) == before


def test_withdrawal_naming_another_user_is_refused(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    bob = new_browser()
    sign_up_with_passkey(app, bob, SoftwareAuthenticator(), "bob")
    before = ledger(app)
    forged = withdraw(app, alice, user_id=user_id(app, "bob"))
    assert forged.status_code == 400
    assert ledger(app) == before
    assert passkey_count(app) == 2


def test_withdrawal_without_the_csrf_token_is_refused(app: Flask, alice: Browser) -> None:
    before = ledger(app)
    response = alice.client.post(WITHDRAW, data=notice_fields(app))
    assert response.status_code == 400
    assert ledger(app) == before
    assert passkey_count(app) == 1


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"notice_version": "9"}, id="unknown-version"),
        pytest.param({"notice_sha256": "0" * 64}, id="tampered-hash"),
        pytest.param({"source": "somewhere-else"}, id="unknown-source"),
    ],
)
def test_withdrawal_with_a_forged_notice_is_refused(
    app: Flask, alice: Browser, forged: dict[str, str]
) -> None:
    before = ledger(app)
    response = withdraw(app, alice, **forged)
    assert response.status_code == 400
    assert ledger(app) == before
    assert passkey_count(app) == 1


def test_withdrawal_needs_a_signed_in_person(app: Flask, browser: Browser) -> None:
    response = browser.post_form(WITHDRAW, notice_fields(app))
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]
    assert ledger(app) == []


# --- the consent page ----------------------------------------------------------------------


def test_consent_page_lists_the_persons_own_decisions(app: Flask, alice: Browser) -> None:
    withdraw(app, alice)
    text = page(alice, "/account/passkeys/consent")
    history = re.search(r'<ul id="consent-history">.*?</ul>', text, re.S)
    assert history is not None
    assert history.group(0).count("<li>") == 2
    assert "you agreed" in history.group(0)
    assert "you withdrew" in history.group(0)


def test_consent_page_offers_opting_in_again_with_an_unticked_box(
    app: Flask, alice: Browser
) -> None:
    withdraw(app, alice)
    text = page(alice, "/account/passkeys/consent")
    checkbox = re.search(r'<input type="checkbox" id="passkey-consent"[^>]*>', text)
    assert checkbox is not None
    assert "checked" not in checkbox.group(0)
    assert f'name="notice_sha256" value="{current_notice(app).sha256}"' in text
    assert "js/consent-add.js" in text


def test_every_published_notice_version_can_be_read_by_anyone(app: Flask, browser: Browser) -> None:
    notice = current_notice(app)
    text = page(browser, f"/notices/passkeys/{notice.version}")
    assert notice.sha256 in text
    assert browser.client.get("/notices/passkeys/0").status_code == 404
