"""Rate limits on the ceremony endpoints and on sign-up (issue 3 item 7).

Per client address (Flask-Limiter), answered with 429, a ``Retry-After`` header and a
problem+json body for JSON clients or a friendly page for forms. The limits come from
config, so each test builds an app with a small limit of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.functional.passkey_support import (
    SIGN_IN_OPTIONS,
    SIGN_IN_VERIFY,
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
    assert_problem,
    snapshot,
)

LIMIT = 3


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(
        tmp_path,
        clock,
        RATELIMIT_CEREMONY=f"{LIMIT} per minute",
        RATELIMIT_SIGNUP=f"{LIMIT} per minute",
    )


def assert_rate_limited_problem(response: Any) -> None:
    assert_problem(response, 429)
    assert response.get_json()["type"].endswith("/too-many-requests")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60


@pytest.mark.parametrize("url", [SIGN_IN_OPTIONS, SIGN_IN_VERIFY, SIGN_UP_OPTIONS, SIGN_UP_VERIFY])
def test_ceremony_endpoint_answers_429_after_its_limit(browser: Browser, url: str) -> None:
    # What the first requests answer does not matter (a verify without a ceremony is
    # refused); each one counts.
    for _ in range(LIMIT):
        assert browser.post_json(url, {}).status_code != 429
    assert_rate_limited_problem(browser.post_json(url, {}))


def test_fourth_sign_in_options_request_in_a_minute_gets_429(browser: Browser) -> None:
    for _ in range(LIMIT):
        assert browser.post_json(SIGN_IN_OPTIONS).status_code == 200
    response = browser.post_json(SIGN_IN_OPTIONS)
    assert_rate_limited_problem(response)


def test_rate_limited_sign_in_options_start_no_ceremony(app: Flask, browser: Browser) -> None:
    for _ in range(LIMIT):
        browser.post_json(SIGN_IN_OPTIONS)
    before = snapshot(app)
    assert browser.post_json(SIGN_IN_OPTIONS).status_code == 429
    assert snapshot(app) == before


def test_sign_up_form_answers_429_with_a_friendly_page(browser: Browser) -> None:
    for number in range(LIMIT):
        assert browser.choose_username(f"person{number}").status_code == 302
    response = browser.choose_username("one-too-many")
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "Too many attempts" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_limits_are_counted_per_client_address(app: Flask, browser: Browser) -> None:
    for _ in range(LIMIT):
        browser.post_json(SIGN_IN_OPTIONS)
    assert browser.post_json(SIGN_IN_OPTIONS).status_code == 429
    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.post_json(SIGN_IN_OPTIONS).status_code == 200


def _browser_at(app: Flask, address: str) -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    return browser


def test_an_ipv6_client_cannot_escape_a_limit_by_changing_address_in_its_64(app: Flask) -> None:
    # A client given 2001:db8:1:2::/64 can use a fresh address for every request.
    for host in range(1, LIMIT + 1):
        assert (
            _browser_at(app, f"2001:db8:1:2::{host:x}").post_json(SIGN_IN_OPTIONS).status_code
            == 200
        )
    assert _browser_at(app, "2001:db8:1:2:ffff::9").post_json(SIGN_IN_OPTIONS).status_code == 429
    # Another /64, even next door, is another client.
    assert _browser_at(app, "2001:db8:1:3::1").post_json(SIGN_IN_OPTIONS).status_code == 200


def test_ipv4_addresses_count_one_by_one_also_when_written_as_ipv6(app: Flask) -> None:
    for _ in range(LIMIT):
        _browser_at(app, "192.0.2.10").post_json(SIGN_IN_OPTIONS)
    assert _browser_at(app, "::ffff:192.0.2.10").post_json(SIGN_IN_OPTIONS).status_code == 429
    assert _browser_at(app, "192.0.2.11").post_json(SIGN_IN_OPTIONS).status_code == 200


def test_one_endpoints_limit_does_not_block_another(browser: Browser) -> None:
    for _ in range(LIMIT + 1):
        browser.post_json(SIGN_IN_OPTIONS)
    assert browser.post_json(SIGN_IN_VERIFY, {}).status_code != 429


def test_limits_can_be_switched_off_in_config(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock, RATELIMIT_CEREMONY="1 per minute", RATELIMIT_ENABLED=False)
    browser = Browser(app.test_client())
    for _ in range(3):
        assert browser.post_json(SIGN_IN_OPTIONS).status_code == 200
