"""Usernameless passkey sign-in through the real endpoints (issue 3 item 6).

What a successful sign-in must do: a brand-new server-side session (no fixation), the
passkey's ``last_used_at``, counter and backup state updated, an audit event. What it must
accept: synced passkeys that always report a zero counter, a backup state that changes,
``crossOrigin: false`` as browsers send it. The refusals are in test_webauthn_negative.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, Passkey, UserSession
from tests.conftest import Browser
from tests.functional.passkey_support import (
    SIGN_IN_VERIFY,
    Account,
    browser_with_cookie,
    cookie_session,
    cookie_value,
    is_signed_in,
    sign_up,
)
from tests.support.authenticator import SoftwareAuthenticator, b64url, b64url_decode


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    return sign_up(app, browser, authenticator, "alice")


def passkey_of(app: Flask, account: Account) -> Passkey:
    with app.app_context():
        return db.session.execute(
            select(Passkey).where(Passkey.user_id == account.user_id)
        ).scalar_one()


# --- the options --------------------------------------------------------------------------


def test_sign_in_options_are_usernameless_and_require_user_verification(
    browser: Browser,
) -> None:
    options = browser.sign_in_options()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert options["timeout"] == 300_000
    assert len(b64url_decode(options["challenge"])) == 32


def test_sign_in_options_say_nothing_about_existing_accounts(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    before = browser.sign_in_options()
    sign_up(app, new_browser(), SoftwareAuthenticator(), "alice")
    after = browser.sign_in_options()
    assert set(before) == set(after)
    assert {k: v for k, v in before.items() if k != "challenge"} == {
        k: v for k, v in after.items() if k != "challenge"
    }


def test_each_sign_in_ceremony_has_a_fresh_challenge(browser: Browser) -> None:
    challenges = {browser.sign_in_options()["challenge"] for _ in range(5)}
    assert len(challenges) == 5


# --- a successful sign-in ---------------------------------------------------------------------


def test_sign_in_signs_the_right_person_in(
    app: Flask, alice: Account, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    bob = sign_up(app, new_browser(), SoftwareAuthenticator(), "bob")
    response = browser.sign_in_with_passkey(bob.authenticator)
    assert response.status_code == 200, response.get_json()
    assert cookie_session(app, browser)["_user_id"] == bob.user_id
    assert "bob" in browser.client.get("/account").get_data(as_text=True)


def test_sign_in_starts_a_new_session_token(app: Flask, alice: Account, browser: Browser) -> None:
    # Session fixation: whatever token the browser held before, sign-in issues a new one.
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    first = cookie_session(app, browser)["sid"]
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    second = cookie_session(app, browser)["sid"]
    assert first != second


def test_sign_in_discards_what_the_cookie_held_before(
    app: Flask, alice: Account, browser: Browser
) -> None:
    browser.client.get("/signin?next=/account")
    credential = alice.authenticator.get(browser.sign_in_options())
    before = cookie_session(app, browser)
    assert {"ceremony", "next", "csrf_token"} <= set(before)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200
    after = cookie_session(app, browser)
    assert "ceremony" not in after
    assert "next" not in after
    assert after.get("csrf_token") != before["csrf_token"]


def test_session_record_holds_only_the_hash_of_the_cookie_token(
    app: Flask, alice: Account, browser: Browser
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    token = cookie_session(app, browser)["sid"]
    with app.app_context():
        hashes = set(db.session.execute(select(UserSession.token_hash)).scalars())
    assert hashlib.sha256(token.encode()).digest() in hashes
    assert token.encode() not in hashes


def test_the_cookie_says_nothing_of_where_or_with_what_browser_one_signed_in(
    app: Flask, alice: Account
) -> None:
    """Two sign-ins of one person, from two addresses with two browsers: the cookies differ
    only by the random session token (no digest of the address or the User-Agent rides
    along, such as the one Flask-Login stores for its session protection, which is off)."""
    cookies = []
    for address, agent in (("192.0.2.1", "Browser One/1.0"), ("198.51.100.2", "Other/2.0")):
        browser = Browser(app.test_client())
        browser.client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
        assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
        cookies.append(cookie_session(app, browser))
    first, second = ({k: v for k, v in c.items() if k != "sid"} for c in cookies)
    assert first == second


def test_sign_in_updates_last_used_at_and_the_counter(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    clock.advance(hours=3)
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    passkey = passkey_of(app, alice)
    assert passkey.last_used_at == clock.now()
    assert passkey.sign_count == alice.credential.sign_count == 1


def test_sign_in_is_audited(app: Flask, alice: Account, browser: Browser) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    with app.app_context():
        last = db.session.execute(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one()
    assert (last.event, last.user_ref) == ("sign_in.succeeded", alice.user_id)
    assert last.details["method"] == "passkey"


def test_sign_in_answer_lists_the_accounts_passkeys_for_the_signal_api(
    alice: Account, browser: Browser
) -> None:
    # For PublicKeyCredential.signalAllAcceptedCredentials (WebAuthn L3 Signal API).
    body = browser.sign_in_with_passkey(alice.authenticator).get_json()
    assert body["signal"] == {
        "rpId": "localhost",
        "userId": b64url(alice.user_handle),
        "allAcceptedCredentialIds": [b64url(alice.credential.credential_id)],
    }


def test_increasing_sign_count_is_accepted(app: Flask, browser: Browser) -> None:
    authenticator = SoftwareAuthenticator(sign_count_step=7)
    account = sign_up(app, browser, authenticator, "alice")
    for _ in range(3):
        assert browser.sign_in_with_passkey(authenticator).status_code == 200
        browser.sign_out()
    assert passkey_of(app, account).sign_count == 21


def test_synced_passkey_that_always_reports_zero_is_accepted(app: Flask, browser: Browser) -> None:
    # §6.1.1: a zero counter means the authenticator has none (synced passkeys).
    authenticator = SoftwareAuthenticator(
        sign_count_step=0, backup_eligible=True, backup_state=True
    )
    account = sign_up(app, browser, authenticator, "alice")
    for _ in range(3):
        response = browser.sign_in_with_passkey(authenticator)
        assert response.status_code == 200, response.get_json()
        browser.sign_out()
    assert passkey_of(app, account).sign_count == 0


def test_backup_state_change_is_accepted_and_stored(app: Flask, browser: Browser) -> None:
    # §6.1.3: BS may change over time (a passkey becomes synced); BE may not.
    authenticator = SoftwareAuthenticator(backup_eligible=True, backup_state=False)
    account = sign_up(app, browser, authenticator, "alice")
    assert passkey_of(app, account).backup_state is False
    credential = authenticator.get(browser.sign_in_options(), backup_state=True)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200
    assert passkey_of(app, account).backup_state is True
    browser.sign_out()
    credential = authenticator.get(browser.sign_in_options(), backup_state=False)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200
    assert passkey_of(app, account).backup_state is False


def test_cross_origin_false_is_accepted(alice: Account, browser: Browser) -> None:
    # Browsers always send crossOrigin: false at top level.
    credential = alice.authenticator.get(browser.sign_in_options(), cross_origin=False)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200


def test_absent_cross_origin_is_accepted(alice: Account, browser: Browser) -> None:
    # Older browsers (WebAuthn Level 1) do not send the member at all.
    credential = alice.authenticator.get(browser.sign_in_options(), cross_origin=None)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200


def test_assertion_just_before_the_challenge_expires_is_accepted(
    alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    clock.advance(seconds=299)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200


def test_passkey_still_works_after_a_refused_attempt(alice: Account, browser: Browser) -> None:
    # A refusal uses the ceremony up but leaves the passkey working.
    refused = alice.authenticator.get(browser.sign_in_options(), bad_signature=True)
    assert browser.post_json(SIGN_IN_VERIFY, refused).status_code == 400
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200


# --- where the person goes next, and signing out -----------------------------------------------


def test_sign_in_returns_to_a_local_next_page(alice: Account, browser: Browser) -> None:
    browser.client.get("/signin?next=/account%3Ftab%3Dpasskeys")
    body = browser.sign_in_with_passkey(alice.authenticator).get_json()
    assert body["redirect"] == "/account?tab=passkeys"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_sign_in_never_redirects_off_site(alice: Account, browser: Browser, target: str) -> None:
    browser.client.get("/signin", query_string={"next": target})
    body = browser.sign_in_with_passkey(alice.authenticator).get_json()
    assert body["redirect"] == "/account"


def test_sign_out_ends_the_server_side_session(
    app: Flask, alice: Account, browser: Browser
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    signed_in_cookie = cookie_value(browser)
    browser.sign_out()
    # Someone who kept a copy of the signed-in cookie is not signed in either.
    assert not is_signed_in(browser_with_cookie(app, signed_in_cookie))


def test_session_ends_after_the_idle_timeout(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    clock.advance(seconds=app.extensions["authdemo.settings"].SESSION_IDLE_SECONDS)
    assert not is_signed_in(browser)


def test_activity_keeps_the_session_alive(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    idle = timedelta(seconds=app.extensions["authdemo.settings"].SESSION_IDLE_SECONDS)
    for _ in range(3):
        clock.advance(seconds=(idle * 2 / 3).total_seconds())
        assert is_signed_in(browser)


def test_a_stale_tab_does_not_spoil_the_sign_in_started_after_it(
    app: Flask, alice: Account, browser: Browser
) -> None:
    # Two tabs of the sign-in page in one browser: the second's options replace the
    # first's ceremony in the cookie. The first tab's answer is refused, and leaves the
    # second tab's ceremony to finish.
    first = alice.authenticator.get(browser.sign_in_options())
    second = alice.authenticator.get(browser.sign_in_options())
    stale = browser.post_json(SIGN_IN_VERIFY, first)
    assert stale.status_code == 400
    assert browser.post_json(SIGN_IN_VERIFY, second).status_code == 200
    with app.app_context():
        reasons = [
            row.details.get("reason")
            for row in db.session.scalars(
                select(AuditEvent).where(AuditEvent.event == "sign_in.failed")
            )
        ]
    assert reasons == ["challenge_mismatch"]  # audited, as a refusal of this kind
