"""Edges of signing in: a second sign-in ends the first session, a refused attempt keeps
where the person was going, and Retry-After appears only when throttled."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from authdemo.extensions import db
from authdemo.models import UserSession
from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator


def _sessions(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(UserSession)) or 0)


def test_signing_in_again_ends_the_session_this_browser_had(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator)
    assert _sessions(app) == 1
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    assert _sessions(app) == 1


def test_a_refused_sign_in_keeps_the_page_to_return_to(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator)
    browser.sign_out()
    browser.client.get("/signin?next=/account/sessions")
    refused = browser.sign_in_with_passkey(authenticator, bad_signature=True)
    assert refused.status_code == 400
    accepted = browser.sign_in_with_passkey(authenticator)
    assert accepted.get_json()["redirect"] == "/account/sessions"


def test_retry_after_is_sent_only_with_429(browser: Browser) -> None:
    response = browser.post_json("/api/passkeys/sign-in/options")
    assert response.status_code == 200
    assert "Retry-After" not in response.headers
