"""The no-way-in purge (issue 14 item 4, decision 0013): ``flask retention purge`` erases
an account with no way in left and no live session ``NO_WAY_IN_ERASE_DAYS`` after its
last activity, and nothing else. A kill switch never deletes anyone. The person is told
the period on the withdrawal page; the retention schedule and the manifest state it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import ORIGIN, Browser, make_app, uses_sqlite
from tests.functional.test_consent_support import consent_body, notice_fields, page
from tests.support.authenticator import SoftwareAuthenticator

DAYS = 30


def _purge(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    return result.output


def _usernames(app: Flask, tmp_path: Path) -> set[str]:
    """Read the database file directly, as an auditor would (not through the app)."""
    if not uses_sqlite(app):
        from sqlalchemy import text

        from authdemo.extensions import Database

        with Database.engine_for(app).connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT username FROM users"))}
    with sqlite3.connect(tmp_path / "test.sqlite3") as connection:
        return {row[0] for row in connection.execute("SELECT username FROM users")}


def _passkey_account(app: Flask, username: str) -> Browser:
    browser = Browser(app.test_client())
    response = browser.sign_up_with_passkey(SoftwareAuthenticator(origin=ORIGIN), username)
    assert response.status_code == 200, response.get_json()
    return browser


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(tmp_path, clock, NO_WAY_IN_ERASE_DAYS=str(DAYS))


def test_withdrawn_account_is_erased_after_the_period_and_not_before(
    app: Flask, tmp_path: Path, clock: FrozenClock
) -> None:
    alice = _passkey_account(app, "alice")
    alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    text = " ".join(page(alice, "/account/passkeys/consent/withdrawn").split())
    assert f"we delete the account {DAYS} days after you last use it" in text
    alice.sign_out()
    clock.advance(days=DAYS - 1)
    _purge(app)
    assert "alice" in _usernames(app, tmp_path)
    clock.advance(days=1, seconds=1)
    output = _purge(app)
    assert f"no activity for {DAYS} days erased: 1" in output
    assert "alice" not in _usernames(app, tmp_path)


def test_a_live_session_keeps_an_account_with_no_way_in(tmp_path: Path, clock: FrozenClock) -> None:
    # A deployment with (very) long sessions: Alice's is still live 31 days on, so she may
    # yet set up a new way in. Only when it has ended does the account go.
    days = 24 * 3600
    app = make_app(
        tmp_path,
        clock,
        SESSION_IDLE_SECONDS=str(40 * days),
        SESSION_ABSOLUTE_SECONDS=str(40 * days),
    )
    alice = _passkey_account(app, "alice")
    alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    clock.advance(days=DAYS + 1)
    _purge(app)
    assert "alice" in _usernames(app, tmp_path)
    clock.advance(days=10)  # the session has ended, and nothing happened for 41 days
    _purge(app)
    assert "alice" not in _usernames(app, tmp_path)


def test_signing_in_with_a_recovery_code_restarts_the_period(
    app: Flask, tmp_path: Path, clock: FrozenClock
) -> None:
    # Bob: password + code (with recovery codes), then a passkey, then password + code
    # removed, then consent withdrawn: no way in, but recovery codes left (a way back).
    bob = Browser(app.test_client())
    account = bob.sign_up_with_password(clock, "bob")
    options = bob.post_json("/api/passkeys/add/options", consent_body(app))
    credential = SoftwareAuthenticator(origin=ORIGIN).create(options.get_json())
    assert bob.post_json("/api/passkeys/add/verify", credential).status_code == 200
    assert bob.post_form("/account/password-code/remove", {}).status_code == 302
    assert (
        bob.post_form("/account/passkeys/consent/withdraw", notice_fields(app)).status_code == 302
    )
    bob.sign_out()
    clock.advance(days=DAYS - 10)
    response = bob.post_form(
        "/signin/recovery", {"username": "bob", "recovery_code": account.recovery_codes[0]}
    )
    assert response.headers["Location"] == "/account/recover"
    bob.sign_out()
    clock.advance(days=DAYS - 1)  # 30+ days after the withdrawal, 29 after the last visit
    _purge(app)
    assert "bob" in _usernames(app, tmp_path)
    clock.advance(days=2)
    _purge(app)
    assert "bob" not in _usernames(app, tmp_path)


@pytest.mark.parametrize("switch", ["PASSKEY_SIGNIN_ENABLED", "PASSKEY_JURISDICTIONS"])
def test_a_kill_switch_or_the_rollout_never_deletes_a_passkey_account(
    tmp_path: Path, clock: FrozenClock, switch: str
) -> None:
    on = make_app(tmp_path, clock)
    _passkey_account(on, "carol").sign_out()
    value = "false" if switch == "PASSKEY_SIGNIN_ENABLED" else "DE"
    off = make_app(tmp_path, clock, JURISDICTION="US", **{switch: value})
    clock.advance(days=DAYS * 3)
    _purge(off)
    assert "carol" in _usernames(off, tmp_path)


def test_accounts_with_a_way_in_are_never_purged_however_idle(
    app: Flask, tmp_path: Path, clock: FrozenClock
) -> None:
    _passkey_account(app, "dora").sign_out()
    Browser(app.test_client()).sign_up_with_password(clock, "eve")
    clock.advance(days=DAYS * 3)
    _purge(app)
    assert {"dora", "eve"} <= _usernames(app, tmp_path)


def test_the_period_is_in_the_manifest(app: Flask) -> None:
    text = page(Browser(app.test_client()), "/privacy/manifest")
    assert "An account left with no way to sign in is deleted" in text
    assert f"{DAYS} days" in text
