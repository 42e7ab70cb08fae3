"""Nobody is stranded (issue 14 item 4; authdemo/ways_in.py, decision 0013).

For each account state, more than the step-up window after signing in, a session whose
account has no way in left (after withdrawing consent, passkeys switched off, passkeys
not offered where the person is) or a recovery-code session can, without step-up: set up
password + code, create a new passkey where passkeys are offered, delete the account,
sign out. The step-up page is never empty: it names the action, offers the account's
working methods, has a Cancel link, and for an account with no way in lists what it can
still do -- and every link it offers works.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import ORIGIN, Browser, make_app, totp_code
from tests.functional.passkey_support import COOKIE
from tests.functional.test_consent_support import consent_body, notice_fields
from tests.functional.test_privacy_erasure import delete_account
from tests.support.authenticator import SoftwareAuthenticator

STEP_UP_WINDOW_PASSED = {"minutes": 6}
COUNTRY = "X-Country"
_TOTP_KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')


@dataclass
class Stranded:
    """A signed-in browser whose account has no way in (or a recovery-code session)."""

    app: Flask
    browser: Browser
    clock: FrozenClock
    username: str
    #: New passkeys can be created here (the rollout and the switches allow it).
    passkeys_offered: bool


def _passkey_person(app: Flask, username: str = "alice", **headers: str) -> Browser:
    browser = Browser(app.test_client())
    for name, value in headers.items():
        browser.client.environ_base[f"HTTP_{name.upper().replace('-', '_')}"] = value
    response = browser.sign_up_with_passkey(SoftwareAuthenticator(origin=ORIGIN), username)
    assert response.status_code == 200, response.get_json()
    return browser


def withdrawn(tmp_path: Path, clock: FrozenClock) -> Stranded:
    app = make_app(tmp_path, clock)
    browser = _passkey_person(app)
    withdrawal = browser.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    assert withdrawal.status_code == 302
    return Stranded(app, browser, clock, "alice", passkeys_offered=True)


def passkeys_switched_off(tmp_path: Path, clock: FrozenClock) -> Stranded:
    app = make_app(tmp_path, clock)
    browser = _passkey_person(app)
    # The operator turns passkeys off (both switches) and restarts; the cookie stays.
    off = make_app(
        tmp_path, clock, PASSKEY_SIGNIN_ENABLED="false", PASSKEY_ENROLMENT_ENABLED="false"
    )
    moved = Browser(off.test_client())
    cookie = browser.client.get_cookie(COOKIE)
    assert cookie is not None
    moved.client.set_cookie(COOKIE, cookie.value)
    return Stranded(off, moved, clock, "alice", passkeys_offered=False)


def not_offered_here(tmp_path: Path, clock: FrozenClock) -> Stranded:
    app = make_app(tmp_path, clock, COUNTRY_HEADER=COUNTRY, PASSKEY_JURISDICTIONS="DE")
    browser = _passkey_person(app, **{COUNTRY: "DE"})
    # The person travels: the trusted proxy now says they are somewhere passkeys are not.
    browser.client.environ_base[f"HTTP_{COUNTRY.upper().replace('-', '_')}"] = "US"
    return Stranded(app, browser, clock, "alice", passkeys_offered=False)


def recovery_code_session(tmp_path: Path, clock: FrozenClock) -> Stranded:
    app = make_app(tmp_path, clock)
    browser = Browser(app.test_client())
    account = browser.sign_up_with_password(clock, "bob")
    browser.sign_out()
    response = browser.post_form(
        "/signin/recovery", {"username": "bob", "recovery_code": account.recovery_codes[0]}
    )
    assert response.headers["Location"] == "/account/recover"
    return Stranded(app, browser, clock, "bob", passkeys_offered=True)


STATES: dict[str, Callable[[Path, FrozenClock], Stranded]] = {
    "withdrawn": withdrawn,
    "passkeys-switched-off": passkeys_switched_off,
    "not-offered-here": not_offered_here,
    "recovery-code": recovery_code_session,
}
NO_WAY_IN = ["withdrawn", "passkeys-switched-off", "not-offered-here"]


@pytest.fixture(params=sorted(STATES))
def stranded(request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock) -> Stranded:
    state = STATES[request.param](tmp_path, clock)
    clock.advance(**STEP_UP_WINDOW_PASSED)
    return state


@pytest.fixture(params=NO_WAY_IN)
def without_a_way_in(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> Stranded:
    state = STATES[request.param](tmp_path, clock)
    clock.advance(**STEP_UP_WINDOW_PASSED)
    return state


def _has_account(app: Flask, username: str) -> bool:
    with app.app_context():
        return (
            db.session.execute(select(User.id).where(User.username == username)).first() is not None
        )


def _text(browser: Browser, path: str) -> str:
    response = browser.client.get(path)
    assert response.status_code == 200, (
        path,
        response.status_code,
        response.headers.get("Location"),
    )
    return html.unescape(response.get_data(as_text=True))


# --- what a stranded session can do without step-up -----------------------------------


def test_stranded_session_sets_up_password_and_code_without_step_up(stranded: Stranded) -> None:
    browser, clock = stranded.browser, stranded.clock
    assert "Confirm it" not in _text(browser, "/account/password-code/setup")
    started = browser.post_form(
        "/account/password-code/setup", {"password": "a long and private passphrase"}
    )
    assert started.headers["Location"] == "/account/password-code/confirm"
    match = _TOTP_KEY.search(_text(browser, "/account/password-code/confirm"))
    assert match is not None
    key = match.group(1).replace(" ", "")
    done = browser.post_form("/account/password-code/confirm", {"code": totp_code(key, clock)})
    assert done.status_code == 200
    assert "recovery code" in done.get_data(as_text=True).lower()


def test_stranded_session_deletes_the_account_without_step_up(stranded: Stranded) -> None:
    assert "Confirm it" not in _text(stranded.browser, "/privacy/delete")
    response = delete_account(stranded.browser, stranded.username)
    assert response.status_code == 200, response.headers.get("Location")
    assert not _has_account(stranded.app, stranded.username)


def test_stranded_session_signs_out(stranded: Stranded) -> None:
    assert stranded.browser.sign_out().status_code == 302
    assert stranded.browser.client.get("/account").status_code == 302


def test_stranded_session_creates_a_new_passkey_where_passkeys_are_offered(
    stranded: Stranded,
) -> None:
    browser = stranded.browser
    options = browser.post_json("/api/passkeys/add/options", consent_body(stranded.app))
    if not stranded.passkeys_offered:
        # Not offered: refused as unavailable (403 with the reason), never "step up".
        assert options.status_code == 403
        assert options.get_json()["type"].endswith("/feature-disabled")
        return
    assert options.status_code == 200, options.get_json()
    credential = SoftwareAuthenticator(origin=ORIGIN).create(options.get_json())
    verified = browser.post_json("/api/passkeys/add/verify", credential)
    assert verified.status_code == 200, verified.get_json()


def test_no_way_in_does_not_skip_step_up_for_anything_else(stranded: Stranded) -> None:
    response = stranded.browser.client.get("/privacy/export")
    if stranded.browser.client.get("/account").status_code == 302:
        # A recovery-code session is sent to set up a new way in instead.
        assert response.headers["Location"] == "/account/recover"
    else:
        assert response.headers["Location"].startswith("/reauth?")


# --- the step-up page --------------------------------------------------------------------


def _step_up_page(browser: Browser, path: str) -> str:
    """Follow a step-up-protected page to "Confirm it's you"; its text."""
    response = browser.client.get(path)
    assert response.headers["Location"].startswith("/reauth?")
    return _text(browser, response.headers["Location"])


def _shows(text: str, *, passkey: bool, password: bool, no_way_in: bool) -> None:
    assert ('id="reauth-passkey"' in text) == passkey
    assert ('id="reauth-password"' in text) == password
    assert ('id="no-way-in"' in text) == no_way_in


def test_step_up_page_of_an_account_with_no_way_in_explains_and_every_option_works(
    without_a_way_in: Stranded,
) -> None:
    stranded = without_a_way_in
    browser = stranded.browser
    text = _step_up_page(browser, "/privacy/export")
    assert "download a copy of your data" in text
    _shows(text, passkey=False, password=False, no_way_in=True)
    assert re.search(r'<a href="/privacy" id="reauth-cancel">Cancel</a>', text)
    links = dict(re.findall(r'<a href="([^"]+)" id="(option-[a-z-]+)"', text))
    expected = {"option-password-code", "option-delete"} | (
        {"option-passkey"} if stranded.passkeys_offered else set()
    )
    assert set(links.values()) == expected
    assert 'id="option-sign-out"' in text
    for href in links:
        assert "Confirm it" not in _text(browser, href), href


def test_step_up_page_names_the_action_offers_each_working_method_and_cancels(
    browser: Browser, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "carol").status_code == 200
    clock.advance(**STEP_UP_WINDOW_PASSED)
    text = _step_up_page(browser, "/privacy/delete")
    assert "To <strong>delete your account</strong>" in text
    _shows(text, passkey=True, password=False, no_way_in=False)
    assert re.search(r'<a href="/privacy" id="reauth-cancel">Cancel</a>', text)


def test_step_up_page_offers_password_and_code_when_passkeys_are_switched_off(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # Both methods registered; passkey sign-in off: the page says why, offers the form.
    app = make_app(tmp_path, clock, PASSKEY_SIGNIN_ENABLED="false")
    browser = Browser(app.test_client())
    browser.sign_up_with_password(clock, "dan")
    options = browser.post_json("/api/passkeys/add/options", consent_body(app))
    credential = SoftwareAuthenticator(origin=ORIGIN).create(options.get_json())
    assert browser.post_json("/api/passkeys/add/verify", credential).status_code == 200
    clock.advance(**STEP_UP_WINDOW_PASSED)
    text = _step_up_page(browser, "/privacy/export")
    _shows(text, passkey=False, password=True, no_way_in=False)
    assert 'id="passkeys-off"' in text


def test_step_up_page_with_an_unknown_action_still_names_one_and_cancels(
    browser: Browser, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "erin").status_code == 200
    text = _text(browser, "/reauth?next=/account&action=<script>alert(1)</script>")
    assert "To <strong>make this change</strong>" in text
    assert "alert(1)" not in text
    assert 'id="reauth-cancel"' in text


def test_account_home_of_an_account_with_no_way_in_says_so_and_its_links_work(
    without_a_way_in: Stranded,
) -> None:
    stranded = without_a_way_in
    text = _text(stranded.browser, "/account")
    box = re.search(r'<div class="error-summary" id="account-no-way-in".*?</div>', text, re.S)
    assert box is not None
    links = re.findall(r'<a href="([^"]+)">', box.group(0))
    assert len(links) == (3 if stranded.passkeys_offered else 2)
    for href in links:
        assert "Confirm it" not in _text(stranded.browser, href), href


def test_account_home_with_a_way_in_has_no_such_warning(
    browser: Browser, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "fay").status_code == 200
    assert 'id="account-no-way-in"' not in _text(browser, "/account")


def test_recovery_session_page_offers_deleting_the_account(
    tmp_path: Path, clock: FrozenClock
) -> None:
    stranded = recovery_code_session(tmp_path, clock)
    text = _text(stranded.browser, "/account/recover")
    assert '<a href="/privacy/delete" id="recover-delete">' in text


def test_every_action_the_step_up_page_names_is_an_endpoint_of_the_app(app: Flask) -> None:
    from authdemo.stepup.routes import ACTIONS

    assert set(ACTIONS) <= set(app.view_functions)
    assert {action.back for action in ACTIONS.values()} <= set(app.view_functions)
