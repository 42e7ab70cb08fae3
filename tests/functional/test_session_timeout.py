"""Time-outs without loss (issue 17 item 13; WCAG 2.2 success criteria 2.2.1 and 2.2.5).

The server side of the warning: every signed-in page says how long its session has left,
"Stay signed in" is a request that slides the idle expiry (never the absolute one), a
session that has ended is not revived, and a form sent after a time-out comes back, via
sign-in, to the page it was on, where the page may fill in what was typed. The browser
side is tests/e2e/test_time_outs_in_chromium.py.
"""

from __future__ import annotations

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser
from tests.functional.account_pages import json_block
from tests.functional.passkey_support import Account, is_signed_in, sign_up
from tests.support.authenticator import SoftwareAuthenticator

KEEP_ALIVE = "/api/session/keep-alive"


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    """Signed in with her passkey in ``browser``."""
    account = sign_up(app, browser, authenticator, "alice")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    return account


def _limits(app: Flask) -> tuple[int, int]:
    settings = app.extensions["authdemo.settings"]
    return settings.SESSION_IDLE_SECONDS, settings.SESSION_ABSOLUTE_SECONDS


def _time_left(browser: Browser) -> dict[str, object]:
    data = json_block(browser.client.get("/account"), "session-timeout-data")
    assert data is not None, "a signed-in page without its time-out data"
    return dict(data)


def test_a_signed_in_page_says_how_long_its_session_has_left(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, _ = _limits(app)
    assert _time_left(browser) | {"keepAliveUrl": None, "signInUrl": None} == {
        "secondsLeft": idle,
        "extendable": True,
        "keepAliveUrl": None,
        "signInUrl": None,
    }
    clock.advance(seconds=idle // 2)
    # Reading the page is activity: it slid the expiry before the page was rendered.
    assert _time_left(browser)["secondsLeft"] == idle


def test_stay_signed_in_keeps_a_session_past_its_idle_limit(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, _ = _limits(app)
    clock.advance(seconds=idle - 100)  # the warning is open
    stayed = browser.post_json(KEEP_ALIVE)
    assert stayed.status_code == 200
    assert stayed.get_json() == {"secondsLeft": idle, "extendable": True}
    clock.advance(seconds=idle - 1)  # past the first limit, inside the new one
    assert is_signed_in(browser)


def test_an_ended_session_is_not_revived_by_staying(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, _ = _limits(app)
    clock.advance(seconds=idle)
    ended = browser.post_json(KEEP_ALIVE)
    assert ended.status_code == 401
    assert ended.mimetype == "application/problem+json"
    assert not is_signed_in(browser)


def test_near_the_absolute_limit_the_warning_says_staying_cannot_extend_it(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, absolute = _limits(app)
    step = idle - 60
    elapsed = 0
    while elapsed + step < absolute - idle // 2:
        clock.advance(seconds=step)
        elapsed += step
        assert browser.post_json(KEEP_ALIVE).status_code == 200
    clock.advance(seconds=60)
    left = browser.post_json(KEEP_ALIVE).get_json()
    assert left == {"secondsLeft": absolute - elapsed - 60, "extendable": False}
    assert left["secondsLeft"] < idle
    clock.advance(seconds=left["secondsLeft"])
    assert not is_signed_in(browser)


def test_pages_for_people_not_signed_in_carry_no_time_out(browser: Browser) -> None:
    assert json_block(browser.client.get("/signin"), "session-timeout-data") is None


def test_keep_alive_refuses_what_is_not_an_empty_json_object(
    alice: Account, browser: Browser
) -> None:
    assert browser.post_json(KEEP_ALIVE, []).status_code == 400  # type: ignore[arg-type]
    sent_as_form = browser.client.post(KEEP_ALIVE, headers={"X-CSRFToken": browser.csrf})
    assert sent_as_form.status_code == 415


def test_a_form_sent_after_a_time_out_returns_through_sign_in_to_its_page(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, _ = _limits(app)
    page = browser.client.get("/account/profile")
    assert page.status_code == 200
    clock.advance(seconds=idle)
    sent = browser.post_form(
        "/account/profile",
        {"username": "alice", "display_name": "Alice A.", "next": "/account/profile"},
    )
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("/signin?next=/account/profile")
    assert browser.client.get(sent.headers["Location"]).status_code == 200
    # The sign-in page passes the typed text on; it is not the place to fill it in.
    signin_page = browser.client.get("/signin")
    assert json_block(signin_page, "typed-data")["hold"] is True
    signed_in = browser.sign_in_with_passkey(alice.authenticator)
    assert signed_in.status_code == 200
    assert signed_in.get_json()["redirect"].endswith("/account/profile")
    # The first page after signing in again may fill the form in; the next one may not.
    assert json_block(browser.client.get("/account/profile"), "typed-data")["restore"] is True
    assert json_block(browser.client.get("/account/profile"), "typed-data")["restore"] is False


def test_a_form_whose_address_is_not_a_page_returns_to_the_page_it_was_on(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    # The device-name form posts to an address that only takes forms: after signing in
    # again the person lands on the sessions page the form was on, not on a 405.
    idle, _ = _limits(app)
    clock.advance(seconds=idle)
    sent = browser.post_form(
        "/account/sessions/device-label",
        {"device_label": "Work laptop", "next": "/account/sessions"},
    )
    assert sent.headers["Location"].endswith("/signin?next=/account/sessions")


def test_a_form_sent_after_a_time_out_may_not_send_the_person_elsewhere(
    app: Flask, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    idle, _ = _limits(app)
    clock.advance(seconds=idle)
    sent = browser.post_form(
        "/account/sessions/device-label", {"next": "https://elsewhere.example/phish"}
    )
    assert sent.headers["Location"].endswith("/signin?next=/account")
