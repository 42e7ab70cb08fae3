"""Simultaneous requests: one challenge, one counter value, one username -> one winner.

Issue 3 items 4 and 10. Several threads post at the same moment (released together by a
``threading.Barrier``), each through its own test client holding a copy of the same
cookie, as a person double-clicking or an attacker racing a captured response would.
Whatever the interleaving, exactly one request may succeed, and none may fail with a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import CeremonyKind, Passkey, User, UserSession
from authdemo.passkeys import ceremonies
from authdemo.passkeys import wiring as passkey_wiring
from tests.conftest import Browser
from tests.functional.passkey_support import (
    SIGN_IN_VERIFY,
    SIGN_UP_VERIFY,
    Account,
    browser_with_cookie,
    cookie_value,
    registration_options,
    sign_up,
)
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.concurrency import race

RACERS = 4


def clones(app: Flask, browser: Browser, n: int) -> list[Browser]:
    """n browsers holding copies of ``browser``'s cookie, CSRF token fetched beforehand."""
    value = cookie_value(browser)
    copies = [browser_with_cookie(app, value) for _ in range(n)]
    for copy in copies:
        assert copy.csrf
    return copies


def statuses(responses: list[Any]) -> list[int]:
    return sorted(r.status_code for r in responses)


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    return sign_up(app, browser, authenticator, "alice")


def test_one_sign_in_challenge_used_at_once_by_several_requests_yields_one_session(
    app: Flask, browser: Browser
) -> None:
    # A synced passkey (counter always 0): only single use of the challenge stops a
    # second session, the counter cannot.
    synced = SoftwareAuthenticator(sign_count_step=0, backup_eligible=True, backup_state=True)
    sign_up(app, browser, synced, "carol")
    credential = synced.get(browser.sign_in_options())
    sessions_before = count(app, UserSession)
    racers = clones(app, browser, RACERS)
    responses = race([lambda b=b: b.post_json(SIGN_IN_VERIFY, credential) for b in racers])
    assert statuses(responses) == [200] + [400] * (RACERS - 1)
    assert count(app, UserSession) == sessions_before + 1


def test_one_sign_up_challenge_used_at_once_by_several_requests_yields_one_account(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    credential = authenticator.create(registration_options(browser, "alice"))
    racers = clones(app, browser, RACERS)
    responses = race([lambda b=b: b.post_json(SIGN_UP_VERIFY, credential) for b in racers])
    assert statuses(responses) == [200] + [400] * (RACERS - 1)
    assert count(app, User) == 1
    assert count(app, Passkey) == 1


def test_one_passkey_counter_value_used_in_two_ceremonies_at_once_signs_in_once(
    app: Flask, alice: Account, new_browser: Callable[[], Browser]
) -> None:
    # A cloned authenticator (or a replaying attacker) answers two ceremonies with the
    # same counter: the conditional update (WHERE sign_count = :old) lets one through.
    browsers = [new_browser() for _ in range(RACERS)]
    credentials = [alice.authenticator.get(b.sign_in_options(), sign_count=5) for b in browsers]
    calls = [
        lambda b=b, c=c: b.post_json(SIGN_IN_VERIFY, c)
        for b, c in zip(browsers, credentials, strict=True)
    ]
    responses = race(calls)
    assert statuses(responses) == [200] + [400] * (RACERS - 1)
    with app.app_context():
        assert db.session.execute(select(Passkey.sign_count)).scalar_one() == 5


def test_two_people_finishing_sign_up_for_one_username_at_once_get_200_and_409(
    app: Flask, new_browser: Callable[[], Browser]
) -> None:
    browsers = [new_browser() for _ in range(RACERS)]
    credentials = [
        SoftwareAuthenticator().create(registration_options(b, "alice")) for b in browsers
    ]
    calls = [
        lambda b=b, c=c: b.post_json(SIGN_UP_VERIFY, c)
        for b, c in zip(browsers, credentials, strict=True)
    ]
    responses = race(calls)
    assert statuses(responses) == [200] + [409] * (RACERS - 1)
    assert count(app, User) == 1
    assert count(app, Passkey) == 1


# --- the service itself, one database session per thread -------------------------------


@pytest.fixture
def issued(app: Flask, clock: FrozenClock) -> str:
    with app.app_context():
        token, _ = ceremonies.issue(
            passkey_wiring.relying_party().ceremony_box,
            CeremonyKind.SIGN_IN,
            now=clock.now(),
            lifetime=timedelta(minutes=5),
        )
    return token


def test_concurrent_consumes_of_one_ceremony_succeed_exactly_once(
    app: Flask, clock: FrozenClock, issued: str
) -> None:
    # Each thread opens the token and records its challenge as used, in a transaction of
    # its own, as eight verify requests would: the primary key lets exactly one through.
    def consume() -> str:
        with app.app_context():
            box = passkey_wiring.relying_party().ceremony_box
            pending = ceremonies.open_token(box, issued, kind=CeremonyKind.SIGN_IN, now=clock.now())
            used = ceremonies.use_up(db.session, pending)
            db.session.commit()
            return "consumed" if used else "challenge_unknown_or_used"

    outcomes = race([consume] * 8)
    assert sorted(outcomes) == ["challenge_unknown_or_used"] * 7 + ["consumed"]
