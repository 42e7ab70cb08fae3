"""Password managers and autofill meet the real forms (issue 17 item 7).

Each form is read as a browser builds it: a new password is filed under the account's
username (a hidden, unsubmitted ``autocomplete="username"`` field where the form has no
username field), new passwords are ``new-password``, the sign-in password is
``current-password``, codes are ``one-time-code``, and the sign-in username field offers
passkeys (``webauthn``) and says so.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from authdemo.clock import FrozenClock
from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.forms import Document, Form, read


def _page(client: FlaskClient, url: str) -> Document:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return read(response.get_data(as_text=True))


def _files_under(form: Form, username: str) -> None:
    """The form names the account a password manager should save the password under,
    without sending it (a field with no ``name`` is never submitted)."""
    (hint,) = form.with_autocomplete("username")
    assert hint.attrs.get("value") == username
    assert hint.hidden
    assert "name" not in hint.attrs
    assert hint.attrs.get("type") == "text"  # managers skip type=hidden


def test_password_sign_up_pages_file_the_new_password_under_the_username(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("robin")
    password_page = browser.client.get("/signup/password").get_data(as_text=True)
    doc = read(password_page)
    (form,) = [f for f in doc.forms if f.with_autocomplete("new-password")]
    _files_under(form, "robin")
    assert form.named("password").autocomplete == ["new-password"]
    assert "<h1>Create your account" in password_page
    assert "Sign in" not in password_page.split("<h1>", 1)[1].split("</h1>", 1)[0]

    browser.post_form("/signup/password", {"password": "correct horse battery staple"})
    code_form = next(
        f
        for f in _page(browser.client, "/signup/password/code").forms
        if f.with_autocomplete("one-time-code")
    )
    _files_under(code_form, "robin")
    assert code_form.named("code").autocomplete == ["one-time-code"]
    assert code_form.named("code").attrs.get("inputmode") == "numeric"


def test_password_change_form_files_the_new_password_under_the_username(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, username="robin")
    doc = _page(browser.client, "/account/password-code")
    form = doc.form(action="/account/password")
    _files_under(form, "robin")
    assert form.named("new_password").autocomplete == ["new-password"]


def test_password_set_up_for_a_passkey_account_files_it_under_the_username(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "kim").status_code == 200
    form = next(
        f
        for f in _page(browser.client, "/account/password-code/setup").forms
        if f.with_autocomplete("new-password")
    )
    _files_under(form, "kim")
    response = browser.post_form(
        "/account/password-code/setup", {"password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    code_form = next(
        f
        for f in _page(browser.client, "/account/password-code/confirm").forms
        if f.with_autocomplete("one-time-code")
    )
    _files_under(code_form, "kim")


def test_sign_in_form_autocomplete_and_the_username_field_offers_passkeys(app: Flask) -> None:
    doc = _page(app.test_client(), "/signin")
    form = doc.form(id="password-form")
    username = form.named("username")
    assert username.autocomplete == ["username", "webauthn"]
    assert "passkey" in doc.described_by(username).lower()
    assert form.named("password").autocomplete == ["current-password"]
    assert form.named("code").autocomplete == ["one-time-code"]
    assert all(not f.with_autocomplete("new-password") for f in doc.forms)
