"""Issue 14 item 2: the consent decision travels with the sign-up ceremony.

The scenario found by trying the app as a person would: tick the opt-in box and request
the passkey options, then press "No thanks" (or go back and choose another username),
and let the authenticator finish the first ceremony. That late response must create
nothing: no account, passkey, session or ledger row, and the username stays free for
the person's own password sign-up. A copy of the older cookie (the one that carried the
ceremony) cannot revive it either: the ceremony was discarded on the server.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import ConsentEvent, Passkey, User
from authdemo.models import UserSession as SessionRow
from tests.conftest import _RECOVERY_CODE, _TOTP_KEY, STRONG_PASSWORD, Browser, totp_code
from tests.functional.passkey_support import (
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
    browser_with_cookie,
    cookie_value,
)
from tests.functional.test_consent_support import ledger, notice_fields, user_id
from tests.support.authenticator import SoftwareAuthenticator

DECLINE = "/signup/no-passkey"


def _person_rows(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: int(
                db.session.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (User, Passkey, SessionRow, ConsentEvent)
        }


_NOTHING = {"users": 0, "passkeys": 0, "user_sessions": 0, "consent_events": 0}


def _options_after_ticking(browser: Browser, username: str) -> dict[str, Any]:
    assert browser.choose_username(username).status_code == 302
    response = browser.post_json(SIGN_UP_OPTIONS, browser.consent())
    assert response.status_code == 200, response.get_json()
    options: dict[str, Any] = response.get_json()
    return options


def test_no_thanks_after_the_options_leaves_a_late_passkey_response_creating_nothing(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = _options_after_ticking(browser, "alice")
    declined = browser.post_form(DECLINE, notice_fields(app))
    assert declined.status_code == 302
    late = browser.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    assert late.status_code == 400
    assert _person_rows(app) == _NOTHING
    # The passkey the authenticator made cannot sign in: it was never stored.
    assert browser.sign_in_with_passkey(authenticator).status_code == 400


def test_no_thanks_leaves_the_username_free_for_the_persons_password_sign_up(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    options = _options_after_ticking(browser, "alice")
    declined = browser.post_form(DECLINE, notice_fields(app))
    assert declined.headers["Location"] == "/signup/password"
    browser.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    # The page "No thanks" led to: password, then the code from the app.
    assert browser.post_form("/signup/password", {"password": STRONG_PASSWORD}).status_code == 302
    key = _TOTP_KEY.search(browser.client.get("/signup/password/code").get_data(as_text=True))
    assert key is not None
    done = browser.post_form(
        "/signup/password/code", {"code": totp_code(key.group(1).replace(" ", ""), clock)}
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert _RECOVERY_CODE.search(done.get_data(as_text=True))
    assert [row.action for row in ledger(app)] == ["declined"]
    assert ledger(app)[0].user_ref == user_id(app, "alice")


def test_an_older_cookie_cannot_revive_a_ceremony_after_no_thanks(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = _options_after_ticking(browser, "alice")
    older_cookie = cookie_value(browser)
    browser.post_form(DECLINE, notice_fields(app))
    replay = browser_with_cookie(app, older_cookie)
    late = replay.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    assert late.status_code == 400
    assert _person_rows(app) == _NOTHING


def test_changing_the_username_after_the_options_discards_the_first_ceremony(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = _options_after_ticking(browser, "alice")
    older_cookie = cookie_value(browser)
    assert browser.choose_username("alicia").status_code == 302
    late = browser.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    assert late.status_code == 400
    replay = browser_with_cookie(app, older_cookie)
    assert replay.post_json(SIGN_UP_VERIFY, authenticator.create(options)).status_code == 400
    assert _person_rows(app) == _NOTHING


def test_the_grant_recorded_is_the_notice_ticked_with_the_ceremony(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = _options_after_ticking(browser, "alice")
    done = browser.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    assert done.status_code == 200, done.get_json()
    rows = ledger(app)
    assert [(row.action, row.notice_version, row.method) for row in rows] == [
        ("granted", notice_fields(app)["notice_version"], "signup:passkey-consent-checkbox")
    ]
    assert _person_rows(app) == {"users": 1, "passkeys": 1, "user_sessions": 1, "consent_events": 1}
