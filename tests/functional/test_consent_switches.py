"""Kill switches and jurisdiction rollout, tested both ways: passkeys hidden and refused
with a clear 403 where they are off, password + code unaffected; the switch state in the
audit trail at start-up; the optional minimum-age self-declaration."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from authdemo import create_app
from authdemo.clock import FrozenClock
from authdemo.consent.rollout import ENROLMENT_OFF, NOT_HERE, SIGNIN_OFF, SWITCHED_OFF
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import (
    audit_details,
    consent_body,
    ledger,
    notice_fields,
    page,
    passkey_count,
    sign_up_with_passkey,
)
from tests.support.authenticator import SoftwareAuthenticator


def _app(tmp_path: Path, clock: FrozenClock, **settings: Any) -> Flask:
    return make_app(tmp_path, clock, **settings)


def _problem(response: Any, status: int, detail: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("/feature-disabled")
    assert body["detail"] == detail


# --- enrolment switched off ------------------------------------------------------------


def test_enrolment_off_hides_the_passkey_offer_and_says_why(
    tmp_path: Path, clock: FrozenClock
) -> None:
    browser = Browser(_app(tmp_path, clock, PASSKEY_ENROLMENT_ENABLED="false").test_client())
    browser.choose_username("bob")
    text = html.unescape(page(browser, "/signup/how"))
    assert 'id="passkey-consent"' not in text
    assert "consent-signup.js" not in text
    assert ENROLMENT_OFF in text
    assert 'id="use-password"' in text


def test_enrolment_off_refuses_passkey_creation_with_403_and_records_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = _app(tmp_path, clock, PASSKEY_ENROLMENT_ENABLED="false")
    browser = Browser(app.test_client())
    browser.choose_username("alice")
    _problem(
        browser.post_json("/api/passkeys/sign-up/options", consent_body(app)), 403, ENROLMENT_OFF
    )
    assert ledger(app) == []


def test_enrolment_off_keeps_password_and_code_sign_up_working(
    tmp_path: Path, clock: FrozenClock
) -> None:
    browser = Browser(_app(tmp_path, clock, PASSKEY_ENROLMENT_ENABLED="false").test_client())
    browser.sign_up_with_password(clock, "bob")
    text = html.unescape(page(browser, "/account"))
    assert 'id="passkeys-unavailable"' in text
    assert 'id="passkey-invite"' not in text


def test_enrolment_off_refuses_adding_a_passkey(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    on = _app(tmp_path, clock)
    browser = Browser(on.test_client())
    sign_up_with_passkey(on, browser, authenticator)
    off = create_app({**_config(on), "PASSKEY_ENROLMENT_ENABLED": "false"}, clock=clock)
    browser.client = _with_cookies_of(browser, off)
    _problem(browser.post_json("/api/passkeys/add/options", consent_body(off)), 403, ENROLMENT_OFF)


def test_enrolment_off_keeps_existing_passkeys_signing_in(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    on = _app(tmp_path, clock)
    sign_up_with_passkey(on, Browser(on.test_client()), authenticator)
    off = create_app({**_config(on), "PASSKEY_ENROLMENT_ENABLED": "false"}, clock=clock)
    assert Browser(off.test_client()).sign_in_with_passkey(authenticator).status_code == 200


# --- sign-in switched off --------------------------------------------------------------


def test_sign_in_off_hides_the_passkey_button_and_says_why(
    tmp_path: Path, clock: FrozenClock
) -> None:
    browser = Browser(_app(tmp_path, clock, PASSKEY_SIGNIN_ENABLED="false").test_client())
    text = html.unescape(page(browser, "/signin"))
    assert 'id="signin-passkey"' not in text
    assert "js/signin.js" not in text
    assert "webauthn" not in text  # no passkey autofill either
    assert SIGNIN_OFF in text
    assert 'id="signin-password"' in text


def test_sign_in_off_refuses_both_passkey_sign_in_endpoints_with_403(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    on = _app(tmp_path, clock)
    browser = Browser(on.test_client())
    sign_up_with_passkey(on, browser, authenticator)
    browser.sign_out()
    options = browser.sign_in_options()  # started while it was on

    off = create_app({**_config(on), "PASSKEY_SIGNIN_ENABLED": "false"}, clock=clock)
    browser.client = _with_cookies_of(browser, off)
    _problem(browser.post_json("/api/passkeys/sign-in/options"), 403, SIGNIN_OFF)
    _problem(
        browser.post_json("/api/passkeys/sign-in/verify", authenticator.get(options)),
        403,
        SIGNIN_OFF,
    )
    assert browser.client.get("/account").status_code == 302


def test_sign_in_off_keeps_password_and_code_sign_in_working(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = _app(tmp_path, clock, PASSKEY_SIGNIN_ENABLED="false", PASSKEY_ENROLMENT_ENABLED="false")
    browser = Browser(app.test_client())
    account = browser.sign_up_with_password(clock, "bob")
    browser.sign_out()
    clock.advance(seconds=30)
    assert browser.sign_in_with_password(account, clock).status_code == 302
    assert "Hello" in page(browser, "/account")


def test_both_switches_off_give_one_plain_reason(tmp_path: Path, clock: FrozenClock) -> None:
    app = _app(tmp_path, clock, PASSKEY_SIGNIN_ENABLED="false", PASSKEY_ENROLMENT_ENABLED="false")
    assert SWITCHED_OFF in html.unescape(page(Browser(app.test_client()), "/signin"))


def test_withdrawal_still_works_with_passkeys_switched_off(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    on = _app(tmp_path, clock)
    browser = Browser(on.test_client())
    sign_up_with_passkey(on, browser, authenticator)
    off = create_app(
        {**_config(on), "PASSKEY_SIGNIN_ENABLED": "false", "PASSKEY_ENROLMENT_ENABLED": "false"},
        clock=clock,
    )
    browser.client = _with_cookies_of(browser, off)
    response = browser.post_form("/account/passkeys/consent/withdraw", notice_fields(off))
    assert response.status_code == 302
    assert passkey_count(off) == 0


# --- jurisdiction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "offered"),
    [
        pytest.param({"JURISDICTION": "DE", "PASSKEY_JURISDICTIONS": "EU"}, True, id="DE-in-EU"),
        pytest.param({"JURISDICTION": "US-IL", "PASSKEY_JURISDICTIONS": "US"}, True, id="state"),
        pytest.param({"JURISDICTION": "US-IL", "PASSKEY_JURISDICTIONS": "EU,GB"}, False, id="US"),
        pytest.param({"JURISDICTION": "", "PASSKEY_JURISDICTIONS": "EU"}, False, id="unknown"),
        pytest.param({"JURISDICTION": "BR", "PASSKEY_JURISDICTIONS": ""}, True, id="everywhere"),
    ],
)
def test_deployment_jurisdiction_decides_where_passkeys_are_offered(
    tmp_path: Path, clock: FrozenClock, settings: dict[str, str], offered: bool
) -> None:
    app = _app(tmp_path, clock, **settings)
    browser = Browser(app.test_client())
    browser.choose_username("alice")
    response = browser.post_json("/api/passkeys/sign-up/options", consent_body(app))
    assert response.status_code == (200 if offered else 403)
    assert ('id="passkey-consent"' in page(browser, "/signup/how")) is offered
    if not offered:
        _problem(response, 403, NOT_HERE)


@pytest.mark.parametrize(
    ("header", "offered"),
    [
        pytest.param("de", True, id="member-state"),
        pytest.param("NO", True, id="listed-country"),
        pytest.param("US", False, id="outside"),
        pytest.param(None, False, id="missing-header-and-no-jurisdiction"),
        pytest.param("DE; drop table", False, id="malformed"),
        pytest.param("XX", False, id="unknown-country"),
    ],
)
def test_trusted_proxy_country_header_decides_per_request(
    tmp_path: Path, clock: FrozenClock, header: str | None, offered: bool
) -> None:
    app = _app(tmp_path, clock, COUNTRY_HEADER="X-Country", PASSKEY_JURISDICTIONS="EU,NO")
    browser = Browser(app.test_client())
    browser.choose_username("alice")
    headers = {} if header is None else {"X-Country": header}
    response = browser.post_json(
        "/api/passkeys/sign-up/options", consent_body(app), headers=headers
    )
    assert response.status_code == (200 if offered else 403)
    assert (
        'id="signin-passkey"'
        in browser.client.get("/signin", headers=headers).get_data(as_text=True)
    ) is offered


def test_country_header_is_ignored_unless_configured(tmp_path: Path, clock: FrozenClock) -> None:
    app = _app(tmp_path, clock, JURISDICTION="DE", PASSKEY_JURISDICTIONS="EU")
    page_text = Browser(app.test_client()).client.get("/signin", headers={"X-Country": "US"})
    assert 'id="signin-passkey"' in page_text.get_data(as_text=True)


# --- the state in the audit trail: a deployment step ---------------------------------------


def _config(app: Flask) -> dict[str, Any]:
    settings = app.extensions["authdemo.settings"]
    return {
        name: getattr(settings, name)
        for name in (
            "ENV",
            "DATABASE_URL",
            "SECRET_KEY",
            "DATA_KEY",
            "ORIGIN",
            "RP_ID",
            "RATELIMIT_CEREMONY",
            "RATELIMIT_SIGNUP",
            "SQLITE_SYNCHRONOUS",
        )
    }


def _with_cookies_of(browser: Browser, app: Flask) -> Any:
    """The same browser (cookies) talking to a restarted app with other settings."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = browser.client.get_cookie(name)
    assert cookie is not None
    client = app.test_client()
    client.set_cookie(name, cookie.value)
    return client


def _deploy(config: dict[str, Any], clock: FrozenClock) -> str:
    """What an operator runs after ``flask db upgrade`` (docs/deployment.md, make serve)."""
    result = (
        create_app(config, clock=clock)
        .test_cli_runner()
        .invoke(args=["passkeys", "record-switches"])
    )
    assert result.exit_code == 0, result.output
    return str(result.output).strip()


def test_switch_state_is_recorded_by_the_deployment_step_only_when_it_changed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = _app(tmp_path, clock)
    assert audit_details(first, "config.passkey_switches") == []

    assert _deploy(_config(first), clock) == "switch state recorded"
    assert _deploy(_config(first), clock) == "switch state unchanged"
    [state] = audit_details(first, "config.passkey_switches")
    assert (state["enrolment"], state["signin"]) == (True, True)

    _deploy({**_config(first), "PASSKEY_SIGNIN_ENABLED": "false"}, clock)
    _deploy({**_config(first), "PASSKEY_SIGNIN_ENABLED": "false"}, clock)
    states = audit_details(first, "config.passkey_switches")
    assert [(s["enrolment"], s["signin"]) for s in states] == [(True, True), (True, False)]


def test_rollout_change_is_recorded_by_the_deployment_step(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = _app(tmp_path, clock)
    _deploy(_config(first), clock)
    _deploy({**_config(first), "PASSKEY_JURISDICTIONS": "EU"}, clock)
    states = audit_details(first, "config.passkey_switches")
    assert [s["reason"] for s in states] == [
        "jurisdiction=-; allowed=*; country_header=-",
        "jurisdiction=-; allowed=EU; country_header=-",
    ]


def test_create_app_does_no_database_io(tmp_path: Path, clock: FrozenClock) -> None:
    """Starting the app touches no database: not even one connection (issue 14 item 1)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    config = {**_config(_app(tmp_path, clock)), "DATABASE_URL": _config_url(tmp_path)}
    connections: list[object] = []

    def _count(*_args: Any) -> None:
        connections.append(object())

    event.listen(Pool, "connect", _count)
    try:
        create_app(config, clock=clock)
    finally:
        event.remove(Pool, "connect", _count)
    assert connections == []
    assert not (tmp_path / "never-opened.sqlite3").exists()


def _config_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"


def test_start_up_before_the_schema_exists_records_nothing_and_starts(
    tmp_path: Path, clock: FrozenClock
) -> None:
    database = tmp_path / "empty.sqlite3"
    app = create_app({**_config(_app(tmp_path, clock)), "DATABASE_URL": f"sqlite:///{database}"})
    assert app.test_client().get("/signin").status_code == 200


# --- minimum age -----------------------------------------------------------------------------


def test_minimum_age_is_off_by_default(browser: Browser) -> None:
    assert 'id="age_confirmed"' not in page(browser, "/signup")
    assert browser.choose_username("alice").status_code == 302


def test_minimum_age_asks_for_a_self_declaration_at_sign_up(
    tmp_path: Path, clock: FrozenClock
) -> None:
    browser = Browser(_app(tmp_path, clock, MINIMUM_AGE="16").test_client())
    assert "I am 16 or older." in page(browser, "/signup")
    refused = browser.choose_username("alice")
    assert refused.status_code == 400
    assert "for people aged 16 or over" in refused.get_data(as_text=True)
    accepted = browser.post_form("/signup", {"username": "alice", "age_confirmed": "yes"})
    assert accepted.status_code == 302
