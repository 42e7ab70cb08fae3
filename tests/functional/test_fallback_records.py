"""What the fallback keeps and records: verifiers only, an audit event for each
sign-in, failure and step-up, and password changes that take effect."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, PasswordCredential, RecoveryCode
from tests.conftest import Browser, PasswordAccount, totp_code


def _events(app: Flask) -> list[tuple[str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.event, AuditEvent.details).order_by(AuditEvent.id)
        ).all()
    return [(row.event, row.details) for row in rows]


def test_recovery_codes_are_stored_only_as_keyed_hashes(
    app: Flask, account: PasswordAccount
) -> None:
    with app.app_context():
        stored = db.session.execute(select(RecoveryCode.code_hmac)).scalars().all()
    assert len(stored) == 10
    assert all(len(value) == 32 for value in stored)
    for code in account.recovery_codes:
        for form in (code, code.replace("-", "")):
            assert all(form.encode() not in value for value in stored)


def test_the_password_is_stored_only_as_an_argon2id_hash(
    app: Flask, account: PasswordAccount
) -> None:
    with app.app_context():
        stored = db.session.execute(select(PasswordCredential.hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert account.password not in stored


def test_password_fields_are_masked_by_default(browser: Browser) -> None:
    page = browser.client.get("/signin").get_data(as_text=True)
    assert 'id="password" name="password" type="password"' in page


def test_sign_ins_failures_and_step_ups_are_audited(
    app: Flask, browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock, code="000000")
    clock.advance(seconds=30)
    browser.sign_in_with_password(account, clock)
    clock.advance(seconds=30)
    browser.post_form(
        "/reauth/password",
        {"password": account.password, "code": totp_code(account.totp_key, clock)},
    )
    events = _events(app)
    assert ("sign_in.failed", {"method": "password_totp", "reason": "code"}) in events
    assert ("sign_in.succeeded", {"method": "password_totp"}) in events
    assert ("step_up.succeeded", {"method": "password_totp"}) in events


def test_changing_the_password_needs_step_up_and_then_the_new_one_works(
    browser: Browser, new_browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    changed = browser.post_form(
        "/account/password", {"new_password": "an entirely new phrase", "next": "/account"}
    )
    assert changed.status_code == 302
    assert changed.headers["Location"] == "/account/password-code"
    clock.advance(seconds=30)
    old = new_browser().sign_in_with_password(account, clock)
    assert old.status_code == 401
    renewed = PasswordAccount(account.username, "an entirely new phrase", account.totp_key, [])
    assert new_browser().sign_in_with_password(renewed, clock).status_code == 302


def test_a_password_change_refuses_a_common_password(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    response = browser.post_form(
        "/account/password", {"new_password": "password1"}, follow_redirects=True
    )
    assert "most common" in response.get_data(as_text=True)


def test_password_change_without_recent_authentication_goes_to_step_up(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    browser.sign_in_with_password(account, clock)
    clock.advance(minutes=6)
    response = browser.post_form(
        "/account/password",
        {"new_password": "an entirely new phrase", "next": "/account/password-code"},
    )
    assert (
        response.headers["Location"]
        == "/reauth?next=/account/password-code&action=fallback.change_password"
    )
