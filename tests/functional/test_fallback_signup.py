"""Sign-up without biometrics: a password and an authenticator app, no passkey, no consent."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import Enrolment, PasswordCredential, TotpCredential, User
from tests.conftest import Browser, totp_code

KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def test_opt_in_screen_offers_password_and_code_as_prominently_as_a_passkey(
    browser: Browser,
) -> None:
    browser.choose_username("bob")
    page = browser.client.get("/signup/how").get_data(as_text=True)
    assert 'id="use-password"' in page
    assert "Use a password and a one-time code instead" in page
    assert 'class="button primary" id="use-password"' in page


def test_password_signup_creates_the_account_only_after_a_correct_code(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("bob")
    browser.post_form("/signup/password", {"password": "correct horse battery staple"})
    page = browser.client.get("/signup/password/code").get_data(as_text=True)
    key = KEY.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert _count(app, User) == 0

    wrong = browser.post_form("/signup/password/code", {"code": "000000"})
    assert wrong.status_code == 400
    assert "code is not right" in wrong.get_data(as_text=True)
    assert _count(app, User) == 0

    done = browser.post_form("/signup/password/code", {"code": totp_code(key, clock)})
    assert done.status_code == 200
    assert _count(app, User) == 1
    assert _count(app, PasswordCredential) == 1
    assert _count(app, TotpCredential) == 1
    assert _count(app, Enrolment) == 0


def test_signup_shows_ten_recovery_codes_once(browser: Browser, clock: FrozenClock) -> None:
    account = browser.sign_up_with_password(clock)
    assert len(account.recovery_codes) == 10
    assert len(set(account.recovery_codes)) == 10
    page = browser.client.get("/account/password-code").get_data(as_text=True)
    assert account.recovery_codes[0] not in page
    assert 'id="codes-left">10<' in page


def test_totp_secret_is_encrypted_at_rest(app: Flask, browser: Browser, clock: FrozenClock) -> None:
    account = browser.sign_up_with_password(clock)
    with app.app_context():
        stored = db.session.execute(select(TotpCredential.secret_ciphertext)).scalar_one()
    assert account.totp_key.encode() not in stored
    import base64

    assert base64.b32decode(account.totp_key) not in stored


def test_weak_password_is_refused_with_the_reason_and_nothing_is_stored(
    app: Flask, browser: Browser
) -> None:
    browser.choose_username("bob")
    response = browser.post_form("/signup/password", {"password": "password123"})
    assert response.status_code == 400
    assert "most common" in response.get_data(as_text=True)
    assert _count(app, Enrolment) == 0


def test_enrolment_expires(browser: Browser, clock: FrozenClock) -> None:
    browser.choose_username("bob")
    browser.post_form("/signup/password", {"password": "correct horse battery staple"})
    page = browser.client.get("/signup/password/code").get_data(as_text=True)
    key = KEY.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
    clock.advance(minutes=16)
    response = browser.post_form("/signup/password/code", {"code": totp_code(key, clock)})
    assert response.status_code == 400
    assert "took too long" in response.get_data(as_text=True)


def test_password_field_allows_paste_and_states_the_rules(browser: Browser) -> None:
    browser.choose_username("bob")
    page = browser.client.get("/signup/password").get_data(as_text=True)
    assert "onpaste" not in page
    assert 'autocomplete="new-password"' in page
    assert "At least 8 characters" in page
