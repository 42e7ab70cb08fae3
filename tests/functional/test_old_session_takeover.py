"""A session left open cannot take the account over (outside review, issue 14 item 4).

The finding, reproduced on b228bc4: a passkey-only person's session, older than the
step-up window, withdrew consent in one click (every passkey deleted), and then, the
account having "no way in", set up a password + code of its own without step-up; or,
with the rollout, sent ``X-Country: US`` (or waited for the kill switch) so that the
passkey was "not available" for that request, and set up a password + code without
withdrawing anything. Now (decision 0013): a withdrawal that would leave nothing to
confirm with needs a recent sign-in, and only an account with no passkey and no
password + code at all skips step-up; a passkey the switch or the rollout keeps from
signing in still confirms it's the person inside the session.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import Passkey, TotpCredential, User
from tests.conftest import Browser, make_app, totp_code
from tests.support.accounts import (
    ELSEWHERE,
    QUICK_HASHING,
    People,
    Person,
    State,
    expect,
    find_form,
    place,
    submit,
)

#: Ten minutes: the reviewer's "10 minutes later", past the 5-minute step-up window.
LATER = {"minutes": 10}
WITHDRAW = "/account/passkeys/consent/withdraw"
SETUP = "/account/password-code/setup"
_TOTP_KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')


@pytest.fixture
def people(tmp_path: Path, clock: FrozenClock) -> People:
    return People(lambda **more: make_app(tmp_path, clock, **QUICK_HASHING, **more), clock)


def _credentials(app: Flask, username: str) -> tuple[int, bool]:
    """How many passkeys the account has, and whether it has a password + code."""
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        passkeys = len(
            db.session.execute(select(Passkey.id).where(Passkey.user_id == user_id)).all()
        )
        totp = db.session.execute(
            select(TotpCredential.user_id).where(TotpCredential.user_id == user_id)
        ).first()
        return passkeys, totp is not None


def _withdraw(browser: Browser, page: str = "/account") -> str:
    """Press the withdraw button on ``page``; where it leads."""
    form = find_form(browser, page, action=WITHDRAW)
    response = browser.client.post(form.action, data=form.values)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _step_up_with_passkey(person: Person, browser: Browser | None = None) -> None:
    browser = browser or person.browser
    options = expect(browser.post_json("/api/reauth/options"), 200).get_json()
    expect(browser.post_json("/api/reauth/verify", person.authenticator.get(options)), 200)


def _set_up_password_and_code(browser: Browser, clock: FrozenClock) -> None:
    started = browser.post_form(SETUP, {"password": "a long and private passphrase"})
    assert started.headers["Location"] == "/account/password-code/confirm"
    page = expect(browser.client.get("/account/password-code/confirm"), 200)
    match = _TOTP_KEY.search(page.get_data(as_text=True))
    assert match is not None
    key = match.group(1).replace(" ", "")
    done = browser.post_form("/account/password-code/confirm", {"code": totp_code(key, clock)})
    assert done.status_code == 200, done.get_data(as_text=True)[:300]


def _asks_to_step_up(browser: Browser) -> None:
    """Setting up a password + code, by page and by form, leads to "Confirm it's you"."""
    shown = browser.client.get(SETUP)
    assert shown.status_code == 302
    assert shown.headers["Location"].startswith("/reauth?")
    sent = browser.post_form(SETUP, {"password": "a long and private passphrase"})
    assert sent.status_code == 302
    assert sent.headers["Location"].startswith("/reauth?")


# --- the reviewer's scenario: withdraw, then set up a password + code ----------------------


def test_an_old_session_cannot_withdraw_the_last_passkey_without_confirming(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.PASSKEY_ONLY)
    clock.advance(**LATER)
    target = _withdraw(person.browser)
    assert target.startswith("/reauth?")
    assert "action=consent.withdraw" in target
    page = expect(person.browser.client.get(target), 200).get_data(as_text=True)
    assert "stop using passkeys" in page
    assert 'id="reauth-passkey"' in page
    # Nothing was deleted, and the old session still cannot set up a password + code.
    assert _credentials(person.app, person.username) == (1, False)
    _asks_to_step_up(person.browser)
    assert _credentials(person.app, person.username) == (1, False)


def test_after_confirming_with_the_passkey_the_withdrawal_works_and_a_password_can_follow(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.PASSKEY_ONLY)
    clock.advance(**LATER)
    assert _withdraw(person.browser, "/account/passkeys/consent").startswith("/reauth?")
    _step_up_with_passkey(person)
    assert _withdraw(person.browser, "/account/passkeys/consent") == (
        "/account/passkeys/consent/withdrawn"
    )
    assert _credentials(person.app, person.username) == (0, False)
    # Past the window again: the account has nothing to confirm with, and this session
    # (the one that confirmed and withdrew) may set up a way in without step-up.
    clock.advance(**LATER)
    _set_up_password_and_code(person.browser, clock)
    assert _credentials(person.app, person.username) == (0, True)


def test_a_withdrawal_that_leaves_a_password_and_code_stays_one_click(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.BOTH)
    clock.advance(**LATER)
    assert _withdraw(person.browser) == "/account/passkeys/consent/withdrawn"
    assert _credentials(person.app, person.username) == (0, True)


# --- the rollout variant: the same old cookie, from outside the rollout area --------------


def test_an_old_session_outside_the_rollout_area_still_confirms_before_a_password(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.PASSKEY_ONLY)
    clock.advance(**LATER)
    place(person.browser, ELSEWHERE)  # X-Country: US, passkeys not offered there
    _asks_to_step_up(person.browser)
    assert _credentials(person.app, person.username) == (1, False)
    # The person's passkey confirms it's them in this session, though it cannot sign in
    # here; then the password + code is set up as usual.
    _step_up_with_passkey(person)
    _set_up_password_and_code(person.browser, clock)
    assert _credentials(person.app, person.username) == (1, True)


# --- the kill-switch variant ------------------------------------------------------------------


def test_an_old_session_while_passkey_sign_in_is_switched_off_still_confirms(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.SWITCHED_OFF)
    clock.advance(**LATER)
    _asks_to_step_up(person.browser)
    reauth = person.browser.client.get(SETUP).headers["Location"]
    page = expect(person.browser.client.get(reauth), 200).get_data(as_text=True)
    assert 'id="reauth-passkey"' in page
    assert 'id="no-way-in"' not in page
    _step_up_with_passkey(person)
    _set_up_password_and_code(person.browser, clock)
    assert _credentials(person.app, person.username) == (1, True)


def test_switched_off_passkeys_do_not_confirm_for_an_account_with_a_password_and_code(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.BOTH)
    switched = people.browser(people.app(PASSKEY_SIGNIN_ENABLED="false"))
    for name, value in person.cookies().items():
        switched.client.set_cookie(name, value)
    clock.advance(**LATER)
    refused = switched.post_json("/api/reauth/options")
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/feature-disabled")
    # Withdrawing, whatever the switches say, is still one click (a way in remains).
    submit(switched, "/account", action=WITHDRAW)
    assert _credentials(person.app, person.username) == (0, True)


# --- the owner withdraws elsewhere: an old session must not inherit the exemption ---------


def test_a_withdrawal_that_leaves_nothing_ends_the_accounts_other_sessions(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.PASSKEY_ONLY)
    old = person.browser  # left open somewhere, perhaps someone else's now
    clock.advance(**LATER)
    elsewhere = people.browser(person.app)
    expect(elsewhere.sign_in_with_passkey(person.authenticator), 200)
    assert _withdraw(elsewhere) == "/account/passkeys/consent/withdrawn"
    assert _credentials(person.app, person.username) == (0, False)
    # The old session is over: it cannot set up a password + code on the empty account.
    ended = old.client.get(SETUP)
    assert ended.status_code == 302
    assert ended.headers["Location"].startswith("/signin")
    # The session that withdrew carries on, and sets up a way in.
    clock.advance(**LATER)
    _set_up_password_and_code(elsewhere, clock)
    assert _credentials(person.app, person.username) == (0, True)
