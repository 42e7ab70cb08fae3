"""Password + code sign-in: never the password alone, one answer for every failure,
each code once, and guessing throttled per address and per account."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db, limiter
from authdemo.fallback import wiring as fallback_wiring
from authdemo.models import PasswordCredential
from tests.conftest import Browser, PasswordAccount, make_app
from tests.support.concurrency import race

CSRF = re.compile(r'"csrfToken": "[^"]+"|name="csrf_token" value="[^"]+"')
ECHOED_USERNAME = re.compile(r'(id="username"[^>]*value=")[^"]*"')


def _normalised(body: str) -> str:
    """The page minus the per-session CSRF token and the username the person typed."""
    return ECHOED_USERNAME.sub(r"\1", CSRF.sub("", body))


def test_password_and_code_sign_in(browser: Browser, account: PasswordAccount, clock) -> None:
    response = browser.sign_in_with_password(account, clock)
    assert response.status_code == 302
    assert "bob" in browser.client.get("/account").get_data(as_text=True)


def test_password_alone_never_signs_in(browser: Browser, account: PasswordAccount, clock) -> None:
    empty = browser.sign_in_with_password(account, clock, code="")
    assert empty.status_code == 400  # "Enter the 6-digit code": nothing was checked
    wrong = browser.sign_in_with_password(account, clock, code="000000")
    assert wrong.status_code == 401
    assert browser.client.get("/account").status_code == 302


def test_unknown_user_wrong_password_and_wrong_code_get_the_same_answer(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    unknown = browser.sign_in_with_password(account, clock, username="nobody")
    wrong_password = browser.sign_in_with_password(account, clock, password="wrong horse")
    wrong_code = browser.sign_in_with_password(account, clock, code="000000")
    answers = {
        (r.status_code, _normalised(r.get_data(as_text=True)))
        for r in (unknown, wrong_password, wrong_code)
    }
    assert len(answers) == 1
    assert unknown.status_code == 401


def test_unknown_username_runs_the_dummy_hash(
    app: Flask, browser: Browser, account: PasswordAccount, clock: FrozenClock, monkeypatch
) -> None:
    calls: list[str] = []
    with app.app_context():
        hasher = fallback_wiring.fallback().hasher
        original = hasher.verify_dummy
        monkeypatch.setattr(hasher, "verify_dummy", lambda pw: calls.append(pw) or original(pw))
    browser.sign_in_with_password(account, clock, username="nobody")
    assert calls == [account.password]


def test_a_code_is_accepted_only_once(
    browser: Browser, new_browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    assert browser.sign_in_with_password(account, clock).status_code == 302
    other = new_browser()
    assert other.sign_in_with_password(account, clock).status_code == 401


def test_an_earlier_code_is_refused_after_a_later_one_was_used(
    browser: Browser, new_browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    import pyotp

    earlier = pyotp.TOTP(account.totp_key).at(clock.now())
    clock.advance(seconds=30)
    assert browser.sign_in_with_password(account, clock).status_code == 302
    other = new_browser()
    assert other.sign_in_with_password(account, clock, code=earlier).status_code == 401


def test_the_same_code_used_concurrently_signs_in_exactly_once(
    app: Flask, account: PasswordAccount, clock: FrozenClock
) -> None:
    browsers = [Browser(app.test_client()) for _ in range(4)]
    for b in browsers:
        assert b.csrf
    responses = race([partial(b.sign_in_with_password, account, clock) for b in browsers])
    assert sorted(r.status_code for r in responses) == [302, 401, 401, 401]


def test_codes_within_one_step_of_now_are_accepted(
    browser: Browser, account: PasswordAccount, clock: FrozenClock
) -> None:
    import pyotp

    previous_step = pyotp.TOTP(account.totp_key).at(clock.now(), counter_offset=-1)
    clock.advance(seconds=60)  # now two steps later than enrolment: previous is unused
    response = browser.sign_in_with_password(
        account, clock, code=pyotp.TOTP(account.totp_key).at(clock.now(), counter_offset=-1)
    )
    assert response.status_code == 302
    assert previous_step


def test_hash_is_upgraded_on_sign_in_when_parameters_change(tmp_path: Path) -> None:
    clock = FrozenClock()
    weak = make_app(tmp_path, clock, ARGON2_MEMORY_KIB=8192, ARGON2_TIME_COST=1)
    account = Browser(weak.test_client()).sign_up_with_password(clock)
    clock.advance(seconds=30)
    strong = make_app(tmp_path, clock)
    assert Browser(strong.test_client()).sign_in_with_password(account, clock).status_code == 302
    with strong.app_context():
        stored = db.session.execute(select(PasswordCredential.hash)).scalar_one()
    assert "m=19456,t=2,p=1" in stored


@pytest.mark.parametrize(
    "field_values",
    [
        {"password": "x" * 5000},
        {"code": "1" * 5000},
        {"username": "u" * 5000},
        {"password": "\x00\x01\x02"},
        {"code": "12345٦"},
    ],
)
def test_malformed_sign_in_input_is_a_clear_4xx(
    browser: Browser, account: PasswordAccount, clock: FrozenClock, field_values: dict[str, str]
) -> None:
    response = browser.sign_in_with_password(account, clock, **field_values)
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)


def test_non_utf8_form_body_is_a_clear_4xx(browser: Browser) -> None:
    response = browser.client.post(
        "/signin/password",
        data=b"csrf_token=" + browser.csrf.encode() + b"&username=%FF%FE&password=%C3&code=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert 400 <= response.status_code < 500


# --- throttling ----------------------------------------------------------------------------


@pytest.fixture
def strict_app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(
        tmp_path,
        clock,
        RATELIMIT_PASSWORD_ACCOUNT="3 per minute; 100 per day",
        RATELIMIT_PASSWORD_IP="50 per minute",
    )


def test_repeated_failures_on_one_account_get_429_with_retry_after(
    strict_app: Flask, clock: FrozenClock
) -> None:
    browser = Browser(strict_app.test_client())
    account = browser.sign_up_with_password(clock)
    browser.sign_out()
    for _ in range(3):
        assert browser.sign_in_with_password(account, clock, code="000000").status_code == 401
    throttled = browser.sign_in_with_password(account, clock)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0


def test_unknown_usernames_are_throttled_exactly_like_real_ones(strict_app: Flask, clock) -> None:
    browser = Browser(strict_app.test_client())
    ghost = PasswordAccount("ghost", "whatever passphrase", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", [])
    statuses = [browser.sign_in_with_password(ghost, clock).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_throttle_is_temporary_not_a_lockout(strict_app: Flask, clock: FrozenClock) -> None:
    browser = Browser(strict_app.test_client())
    account = browser.sign_up_with_password(clock)
    browser.sign_out()
    for _ in range(4):
        browser.sign_in_with_password(account, clock, code="000000")
    with strict_app.app_context():
        limiter.reset()  # the limiter's own clock cannot be moved; a new window is simulated
    clock.advance(seconds=30)
    assert browser.sign_in_with_password(account, clock).status_code == 302


def test_limiter_storage_never_holds_usernames(strict_app: Flask, clock: FrozenClock) -> None:
    browser = Browser(strict_app.test_client())
    ghost = PasswordAccount(
        "zebediah", "whatever passphrase", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", []
    )
    browser.sign_in_with_password(ghost, clock)
    with strict_app.app_context():
        storage = limiter.storage
        keys = " ".join(map(str, getattr(storage, "storage", {}).keys()))
        keys += " ".join(map(str, getattr(storage, "events", {}).keys()))
    assert "acct:" in keys
    assert "zebediah" not in keys


def test_one_account_budget_is_shared_by_password_and_recovery_code_guessing(
    strict_app: Flask, clock: FrozenClock
) -> None:
    browser = Browser(strict_app.test_client())
    account = browser.sign_up_with_password(clock)
    browser.sign_out()
    for _ in range(2):
        assert browser.sign_in_with_password(account, clock, code="000000").status_code == 401
    wrong = {"username": account.username, "recovery_code": "AAAA-AAAA-AAAA-AAAA"}
    assert browser.post_form("/signin/recovery", wrong).status_code == 401
    assert browser.post_form("/signin/recovery", wrong).status_code == 429
    assert browser.sign_in_with_password(account, clock).status_code == 429


def test_an_empty_password_takes_one_path_for_known_and_unknown_usernames(
    app: Flask, browser: Browser, account: PasswordAccount, clock: FrozenClock, monkeypatch
) -> None:
    """An empty password is answered "Enter your password" before any account is looked
    up (issue 17 item 3): no hash for anyone, one answer whether the account exists."""
    calls: list[str] = []
    with app.app_context():
        hasher = fallback_wiring.fallback().hasher
        original = hasher.verify
        monkeypatch.setattr(
            hasher, "verify", lambda stored, pw: calls.append(pw) or original(stored, pw)
        )
    known = browser.sign_in_with_password(account, clock, password="")
    unknown = browser.sign_in_with_password(account, clock, username="nobody", password="")
    assert calls == []
    assert known.status_code == unknown.status_code == 400
    assert _normalised(known.get_data(as_text=True)) == _normalised(unknown.get_data(as_text=True))
