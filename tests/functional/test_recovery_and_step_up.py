"""Recovery codes give a restricted session; sensitive changes need a fresh step-up with
this same account's own passkey or password + code."""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, UserSession
from tests.conftest import Browser, PasswordAccount, totp_code
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.concurrency import race


def _recover(browser: Browser, account: PasswordAccount, index: int = 0):  # type: ignore[no-untyped-def]
    return browser.post_form(
        "/signin/recovery",
        {"username": account.username, "recovery_code": account.recovery_codes[index]},
    )


def test_recovery_code_gives_a_restricted_session(
    app: Flask, browser: Browser, account: PasswordAccount
) -> None:
    response = _recover(browser, account)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/recover")
    # Everything else sends the person to set up a new way in.
    assert browser.client.get("/account").headers["Location"].endswith("/account/recover")
    assert browser.client.get("/account/password-code").status_code == 302
    api = browser.post_json("/api/reauth/options")
    assert api.status_code == 403
    assert api.mimetype == "application/problem+json"
    page = browser.client.get("/account/recover").get_data(as_text=True)
    assert "9 left" in page
    with app.app_context():
        restricted = db.session.execute(select(UserSession.restricted)).scalar_one()
        used = db.session.execute(
            select(AuditEvent.details).where(AuditEvent.event == "recovery_code.used")
        ).scalar_one()
    assert restricted is True
    assert used == {"remaining": 9}


def test_recovery_codes_are_single_use(
    browser: Browser, new_browser, account: PasswordAccount
) -> None:
    assert _recover(browser, account).status_code == 302
    assert _recover(new_browser(), account).status_code == 401


def test_recovery_code_is_accepted_without_dashes_and_in_lower_case(
    browser: Browser, account: PasswordAccount
) -> None:
    code = account.recovery_codes[3].replace("-", " ").lower()
    response = browser.post_form(
        "/signin/recovery", {"username": account.username, "recovery_code": code}
    )
    assert response.status_code == 302


def test_one_recovery_code_used_concurrently_signs_in_once(
    app: Flask, account: PasswordAccount
) -> None:
    browsers = [Browser(app.test_client()) for _ in range(4)]
    for b in browsers:
        assert b.csrf
    responses = race([partial(_recover, b, account) for b in browsers])
    assert sorted(r.status_code for r in responses) == [302, 401, 401, 401]


def test_restricted_session_never_counts_as_step_up(
    browser: Browser, account: PasswordAccount
) -> None:
    _recover(browser, account)
    response = browser.post_form("/account/recovery-codes", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/recover")


def test_recovery_then_new_password_and_code_ends_the_restricted_session(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    import re

    _recover(browser, account)
    response = browser.post_form(
        "/account/password-code/setup", {"password": "a brand new passphrase"}
    )
    assert response.status_code == 302
    page = browser.client.get("/account/password-code/confirm").get_data(as_text=True)
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = browser.post_form("/account/password-code/confirm", {"code": totp_code(key, clock)})
    assert done.status_code == 200
    assert "Please sign in" in done.get_data(as_text=True)
    assert browser.client.get("/account").status_code == 302  # signed out
    clock.advance(seconds=30)
    renewed = PasswordAccount(account.username, "a brand new passphrase", key, [])
    assert browser.sign_in_with_password(renewed, clock).status_code == 302
    assert browser.client.get("/account").status_code == 200


# --- step-up ---------------------------------------------------------------------------


def test_sensitive_change_needs_a_fresh_step_up(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    clock.advance(minutes=6)
    response = browser.post_form("/account/recovery-codes", {"next": "/account/password-code"})
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == "/reauth?next=/account/password-code&action=fallback.regenerate_codes"
    )
    assert "Confirm it" in browser.client.get(response.headers["Location"]).get_data(as_text=True)
    clock.advance(seconds=30)
    reauth = browser.post_form(
        "/reauth/password",
        {
            "password": account.password,
            "code": totp_code(account.totp_key, clock),
            "next": "/account/password-code",
        },
    )
    assert reauth.status_code == 302
    assert reauth.headers["Location"] == "/account/password-code"
    regenerated = browser.post_form("/account/recovery-codes", {})
    assert regenerated.status_code == 200
    clock.advance(minutes=6)
    assert browser.post_form("/account/recovery-codes", {}).status_code == 302


def test_regenerating_recovery_codes_invalidates_the_old_set(
    browser: Browser, new_browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    assert browser.post_form("/account/recovery-codes", {}).status_code == 200
    assert _recover(new_browser(), account, index=5).status_code == 401


def test_step_up_rotates_the_session_token(
    app: Flask, browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    with app.app_context():
        before = db.session.execute(select(UserSession.token_hash)).scalar_one()
    clock.advance(seconds=30)
    browser.post_form(
        "/reauth/password",
        {"password": account.password, "code": totp_code(account.totp_key, clock)},
    )
    with app.app_context():
        after = db.session.execute(select(UserSession.token_hash)).scalar_one()
    assert before != after
    assert browser.client.get("/account").status_code == 200


def test_step_up_is_not_satisfied_by_another_accounts_password_and_code(
    app: Flask, new_browser, clock: FrozenClock
) -> None:
    mallory_browser = new_browser()
    mallory = mallory_browser.sign_up_with_password(clock, username="mallory")
    victim_browser = new_browser()
    victim_browser.sign_up_with_password(clock, username="victim")
    clock.advance(minutes=6)
    response = victim_browser.post_form(
        "/reauth/password",
        {"password": mallory.password, "code": totp_code(mallory.totp_key, clock)},
    )
    assert response.status_code == 401
    refused = victim_browser.post_form("/account/recovery-codes", {})
    assert refused.headers["Location"].startswith("/reauth")


def test_step_up_is_not_satisfied_by_another_accounts_passkey(
    app: Flask, new_browser, clock: FrozenClock
) -> None:
    mallory_key = SoftwareAuthenticator()
    mallory = new_browser()
    mallory.sign_up_with_passkey(mallory_key, username="mallory")
    victim = new_browser()
    victim.sign_up_with_passkey(SoftwareAuthenticator(), username="victim")
    clock.advance(minutes=6)
    options = victim.post_json("/api/reauth/options").get_json()
    # Mallory's authenticator answers the victim's step-up with Mallory's own passkey.
    options["allowCredentials"] = []
    forged = mallory_key.get(options)
    response = victim.post_json("/api/reauth/verify", forged)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert victim.post_json("/api/passkeys/add/options", victim.consent()).status_code == 401


def test_passkey_step_up_of_the_same_account_succeeds(
    browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    browser.sign_up_with_passkey(authenticator)
    clock.advance(minutes=6)
    options = browser.post_json("/api/reauth/options").get_json()
    assert len(options["allowCredentials"]) == 1
    response = browser.post_json("/api/reauth/verify", authenticator.get(options))
    assert response.status_code == 200
    assert browser.post_json("/api/passkeys/add/options", browser.consent()).status_code == 200


def test_removing_password_and_code_is_refused_when_it_is_the_only_way_in(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    response = browser.post_form("/account/password-code/remove", {})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'role="alert" id="remove-error"' in page
    assert "only way to sign in" in page
    clock.advance(seconds=30)
    browser._csrf = None
    assert browser.sign_out().status_code == 302
    assert browser.sign_in_with_password(account, clock).status_code == 302


def test_a_refused_password_change_answers_400_on_the_page_with_the_field_marked(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    response = browser.post_form("/account/password", {"new_password": "abc"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="new-password-error"' in page
    assert 'aria-describedby="new-password-hint new-password-error"' in page
    assert 'aria-invalid="true"' in page
