"""Nobody is stranded (issue 14 item 4; authdemo/ways_in.py, decision 0013).

For each account state, more than the step-up window after signing in, a session whose
account has nothing left to confirm with (no passkey and no password + code: after
withdrawing consent) or a recovery-code session can, without step-up: set up password +
code, create a new passkey where passkeys are offered, delete the account, sign out. A
passkey-only account whose passkey cannot sign in here and now (switched off, not offered
where the person is) has no way in either, but its passkey still confirms it's the person
inside the session: it steps up with it, then sets up a password + code or deletes the
account (an old session must not skip step-up because of a switch or a country header:
tests/functional/test_old_session_takeover.py). The step-up page is never empty: it names
the action, offers what the account can confirm with, has a Cancel link, and for an
account with nothing to confirm with lists what it can still do -- and every link it
offers works. The people are made in each state by the shared account-state fixtures
(tests/support/accounts.py), through the app's own pages.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import ORIGIN, Browser, make_app, totp_code
from tests.functional.test_consent_support import consent_body
from tests.functional.test_privacy_erasure import delete_account
from tests.support.accounts import QUICK_HASHING, People, Person, State
from tests.support.authenticator import SoftwareAuthenticator

STEP_UP_WINDOW_PASSED = {"minutes": 6}
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
    person: Person


#: The account states of tests/support/accounts.py that this file is about: nothing to
#: confirm with (no passkey, no password + code); with a recovery-code session, these
#: skip step-up for the four actions.
NOTHING_TO_CONFIRM_WITH = [State.WITHDRAWN, State.NO_WAY_IN]
STRANDED = [*NOTHING_TO_CONFIRM_WITH, State.RECOVERY]
#: No way in here and now, but a passkey that confirms in the session (decision 0013).
PASSKEY_CANNOT_SIGN_IN = [State.SWITCHED_OFF, State.NOT_OFFERED]
NO_WAY_IN = [*NOTHING_TO_CONFIRM_WITH, *PASSKEY_CANNOT_SIGN_IN]
#: Where the person is, passkeys are offered (only their sign-in was lost).
PASSKEYS_OFFERED = {State.WITHDRAWN, State.NO_WAY_IN, State.RECOVERY}


@pytest.fixture
def people(tmp_path: Path, clock: FrozenClock) -> People:
    return People(lambda **more: make_app(tmp_path, clock, **QUICK_HASHING, **more), clock)


def _stranded(people: People, state: State) -> Stranded:
    person = people.make(state)
    people.clock.advance(**STEP_UP_WINDOW_PASSED)
    offered = state in PASSKEYS_OFFERED
    return Stranded(person.app, person.browser, people.clock, person.username, offered, person)


@pytest.fixture(params=STRANDED, ids=[state.value for state in STRANDED])
def stranded(request: pytest.FixtureRequest, people: People) -> Stranded:
    return _stranded(people, request.param)


@pytest.fixture(params=NO_WAY_IN, ids=[state.value for state in NO_WAY_IN])
def without_a_way_in(request: pytest.FixtureRequest, people: People) -> Stranded:
    return _stranded(people, request.param)


@pytest.fixture(
    params=NOTHING_TO_CONFIRM_WITH, ids=[state.value for state in NOTHING_TO_CONFIRM_WITH]
)
def with_nothing_to_confirm_with(request: pytest.FixtureRequest, people: People) -> Stranded:
    return _stranded(people, request.param)


@pytest.fixture(
    params=PASSKEY_CANNOT_SIGN_IN, ids=[state.value for state in PASSKEY_CANNOT_SIGN_IN]
)
def passkey_cannot_sign_in(request: pytest.FixtureRequest, people: People) -> Stranded:
    return _stranded(people, request.param)


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


def test_step_up_page_of_an_account_with_nothing_to_confirm_with_explains_and_options_work(
    with_nothing_to_confirm_with: Stranded,
) -> None:
    stranded = with_nothing_to_confirm_with
    browser = stranded.browser
    text = _step_up_page(browser, "/privacy/export")
    assert "download a copy of your data" in text
    _shows(text, passkey=False, password=False, no_way_in=True)
    assert re.search(r'<a [^>]*href="/privacy" id="reauth-cancel">Cancel</a>', text)
    links = dict(re.findall(r'<a href="([^"]+)" id="(option-[a-z-]+)"', text))
    expected = {"option-password-code", "option-delete"} | (
        {"option-passkey"} if stranded.passkeys_offered else set()
    )
    assert set(links.values()) == expected
    assert 'id="option-sign-out"' in text
    for href in links:
        assert "Confirm it" not in _text(browser, href), href


def test_a_passkey_that_cannot_sign_in_here_still_confirms_then_the_person_sets_up_a_way_in(
    passkey_cannot_sign_in: Stranded,
) -> None:
    stranded = passkey_cannot_sign_in
    browser = stranded.browser
    text = _step_up_page(browser, "/account/password-code/setup")
    assert "set up a password and one-time code" in text
    _shows(text, passkey=True, password=False, no_way_in=False)
    assert 'id="passkeys-off"' in text
    assert re.search(r'<a [^>]*href="/account/password-code" id="reauth-cancel">Cancel</a>', text)
    options = browser.post_json("/api/reauth/options")
    assert options.status_code == 200, options.get_json()
    verified = browser.post_json(
        "/api/reauth/verify", stranded.person.authenticator.get(options.get_json())
    )
    assert verified.status_code == 200, verified.get_json()
    test_stranded_session_sets_up_password_and_code_without_step_up(stranded)


def test_a_passkey_that_cannot_sign_in_here_still_confirms_deleting_the_account(
    passkey_cannot_sign_in: Stranded,
) -> None:
    stranded = passkey_cannot_sign_in
    browser = stranded.browser
    assert "delete your account" in _step_up_page(browser, "/privacy/delete")
    options = browser.post_json("/api/reauth/options").get_json()
    verified = browser.post_json("/api/reauth/verify", stranded.person.authenticator.get(options))
    assert verified.status_code == 200, verified.get_json()
    test_stranded_session_deletes_the_account_without_step_up(stranded)


def test_step_up_page_names_the_action_offers_each_working_method_and_cancels(
    browser: Browser, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "carol").status_code == 200
    clock.advance(**STEP_UP_WINDOW_PASSED)
    text = _step_up_page(browser, "/privacy/delete")
    assert "To <strong>delete your account</strong>" in text
    _shows(text, passkey=True, password=False, no_way_in=False)
    assert re.search(r'<a [^>]*href="/privacy" id="reauth-cancel">Cancel</a>', text)


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
    confirms_with_a_passkey = stranded.person.state in PASSKEY_CANNOT_SIGN_IN
    # Deleted after the no-way-in period only when nothing is left (the purge's rule).
    assert ("is deleted" in box.group(0)) != confirms_with_a_passkey
    for href in links:
        if confirms_with_a_passkey:  # one step more: "Confirm it's you" with the passkey
            page = _step_up_page(stranded.browser, href)
            _shows(page, passkey=True, password=False, no_way_in=False)
        else:
            assert "Confirm it" not in _text(stranded.browser, href), href


def test_account_home_with_a_way_in_has_no_such_warning(
    browser: Browser, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "fay").status_code == 200
    assert 'id="account-no-way-in"' not in _text(browser, "/account")


def test_recovery_session_page_offers_deleting_the_account(people: People) -> None:
    person = people.make(State.RECOVERY)
    text = _text(person.browser, "/account/recover")
    assert '<a href="/privacy/delete" id="recover-delete">' in text


def test_every_action_the_step_up_page_names_is_an_endpoint_of_the_app(app: Flask) -> None:
    from authdemo.stepup.routes import ACTIONS

    assert set(ACTIONS) <= set(app.view_functions)
    assert {action.back for action in ACTIONS.values()} <= set(app.view_functions)


def test_consent_page_speaks_of_a_password_and_code_only_to_people_who_have_one(
    people: People,
) -> None:
    withdrawn = _stranded(people, State.WITHDRAWN)
    page = _text(withdrawn.browser, "/account/passkeys/consent")
    assert "password and code are not affected" not in page
    assert "with your password and one-time code" not in page
    both = people.make(State.BOTH)
    assert "password and code are not affected" in _text(both.browser, "/account/passkeys/consent")
