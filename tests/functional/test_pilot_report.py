"""Issue 20 item 5: ``flask pilot report [--since DATE]``, read as the operator reads it,
after people signed in, failed, recovered and reported a problem through the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator


@pytest.fixture
def pilot(tmp_path: Path, clock: FrozenClock) -> Flask:
    """Everyone in the pilot (100 %): a passkey person and a password + code person."""
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="100")
    device = SoftwareAuthenticator()
    ada = Browser(app.test_client())
    assert ada.sign_up_with_passkey(device, "ada").status_code == 200
    for _ in range(3):
        assert Browser(app.test_client()).sign_in_with_passkey(device).status_code == 200
    sent = ada.post_form("/report-a-problem", {"category": "unclear", "text": ""})
    assert sent.status_code == 302
    bob = Browser(app.test_client())
    account = bob.sign_up_with_password(clock, "bob")
    bob.sign_out()
    clock.advance(seconds=31)
    assert bob.sign_in_with_password(account, clock).status_code == 302
    bob.sign_out()
    clock.advance(seconds=31)
    assert bob.sign_in_with_password(account, clock, password="not it").status_code == 401
    assert bob.sign_in_with_password(account, clock).status_code == 302
    bob.sign_out()
    recovered = bob.post_form(
        "/signin/recovery", {"username": "bob", "recovery_code": account.recovery_codes[0]}
    )
    assert recovered.status_code == 302
    return app


def report(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["pilot", "report", *args])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_the_report_gives_rates_with_intervals_the_gap_and_the_guardrail_signals(
    pilot: Flask,
) -> None:
    text = report(pilot)
    assert "  passkey: 100.0 % of 4 (95 % CI 51.0 % to 100.0 %)" in text
    assert "  password_totp: 75.0 % of 4 (95 % CI 30.1 % to 95.4 %)" in text
    assert "  recovery_code: 100.0 % of 1" in text
    assert "  all: +25.0 points (95 % CI -28.1 to +69.9; no difference shown)" in text
    assert "  pilot: 8 successful sign-ins" in text
    assert (
        "    lockouts (recovery codes, operator recoveries): 1 (125.0 per 1,000 sign-ins)" in text
    )
    assert "  passkey, pilot: 1 (250.0 per 1,000 sign-ins)" in text
    assert "  provider not disclosed (zero AAGUID): 100.0 % of 4" in text
    assert "ada" not in text.replace("Latency", "")
    assert "bob" not in text


def test_the_report_starts_where_it_is_told(pilot: Flask, clock: FrozenClock) -> None:
    clock.advance(days=1)
    today = clock.now().strftime("%Y-%m-%d")
    text = report(pilot, "--since", today)
    assert "  passkey: no attempts" in text
    assert "  password_totp: no attempts" in text


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "2999-01-01"])
def test_a_bad_or_future_start_is_refused_plainly(app: Flask, since: str) -> None:
    result = app.test_cli_runner().invoke(args=["pilot", "report", "--since", since])
    assert result.exit_code == 2
    assert "--since" in result.output
