"""Issue 20, done: a deployment goes from a 10 % pilot to a breached guardrail, pauses
passkey enrolment by itself, and comes back only when a person runs ``flask passkeys
resume``; at each step the audit trail, /metrics and ``flask pilot report`` say so.

Everything happens as people and the operator do it: sign-ups through the pages' JSON
endpoints (a sign-up outside the pilot is refused a passkey, so the test simply lets the
next person try), sign-ins with a software authenticator, the commands through the CLI.
The cohort a person was offered at sign-up is theirs afterwards, so every figure below
is the pilot's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.scrape import sample, scrape

SIGN_UP_OPTIONS = "/api/passkeys/sign-up/options"
ADD_OPTIONS = "/api/passkeys/add/options"


def sign_up_in_the_pilot(app: Flask, authenticator: SoftwareAuthenticator, first: int) -> int:
    """New people sign up as pilot<first>, pilot<first+1>... until the app offers one a
    passkey (the pilot's 10 %); that one signs up with it. Returns the number used."""
    for number in range(first, first + 500):
        browser = Browser(app.test_client())
        assert browser.choose_username(f"pilot{number}").status_code == 302
        options = browser.post_json(SIGN_UP_OPTIONS, browser.consent())
        if options.status_code == 403:  # outside the pilot: told so, refused a passkey
            continue
        assert options.status_code == 200, options.get_json()
        created = authenticator.create(options.get_json())
        assert browser.post_json("/api/passkeys/sign-up/verify", created).status_code == 200
        return number
    raise AssertionError("nobody in the pilot among 500 usernames")


def flask(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def switch_changes(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.event == "config.passkey_switch_changed")
                .order_by(AuditEvent.id)
            )
        )


def test_a_ten_percent_pilot_breaches_pauses_itself_and_a_person_resumes_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # A small pilot: its operator judges passkey success from 20 attempts on.
    app = make_app(
        tmp_path, clock, PASSKEY_PILOT_PERCENT="10", GUARDRAIL_PASSKEY_SUCCESS_MIN_SAMPLE="20"
    )
    devices = [SoftwareAuthenticator() for _ in range(3)]
    number = 0
    for device in devices:
        number = sign_up_in_the_pilot(app, device, number) + 1

    def sign_in(device: SoftwareAuthenticator, **overrides: Any) -> int:
        browser = Browser(app.test_client())
        return browser.sign_in_with_passkey(device, **overrides).status_code

    # 1. The pilot runs well: 3 sign-ups and 27 sign-ins with passkeys, all accepted.
    before = scrape(app)
    assert {sign_in(device) for device in devices for _ in range(9)} == {200}
    clock.advance(minutes=10)
    healthy = flask(app, "guardrails", "check")
    assert "passkey_success: 100 % (30 of 30; floor 90 %): ok" in healthy
    assert "no guardrail breached: nothing changed" in healthy
    assert switch_changes(app) == []
    metrics = scrape(app)

    def passkey_sign_ins(cohort: str) -> float:
        series = "authdemo_pilot_sign_ins_total"
        return sample(metrics, series, method="passkey", cohort=cohort) - sample(
            before, series, method="passkey", cohort=cohort
        )

    assert (passkey_sign_ins("pilot"), passkey_sign_ins("outside")) == (27, 0)
    assert sample(metrics, "authdemo_passkey_switch_on", switch="enrolment") == 1
    assert sample(metrics, "authdemo_guardrail_paused") == 0
    report = flask(app, "pilot", "report")
    assert "pilot: 10 % of accounts and sign-ups" in report
    assert "  passkey: 100.0 % of 30 (95 % CI 88.6 % to 100.0 %)" in report
    assert "    pilot: 100.0 % of 30 (95 % CI 88.6 % to 100.0 %)" in report
    assert "  pilot: 30 successful sign-ins" in report
    assert "outside:" not in report

    # 2. A bad release: passkey assertions stop verifying. 10 of 40 fail (75 % < 90 %).
    assert {sign_in(devices[0], bad_signature=True) for _ in range(10)} == {400}
    clock.advance(minutes=15)
    breached = flask(app, "guardrails", "check")
    assert "passkey_success: 75 % (30 of 40; floor 90 %): BREACHED" in breached
    assert "passkey enrolment paused by the passkey_success guardrail" in breached
    [pause] = switch_changes(app)
    assert pause["by"] == "guardrail:passkey_success"
    assert pause["enrolment"] is False
    assert pause["figures"]["passkey_success"]["numerator"] == 30
    assert pause["figures"]["passkey_success"]["denominator"] == 40
    metrics = scrape(app)
    assert sample(metrics, "authdemo_passkey_switch_on", switch="enrolment") == 0
    assert sample(metrics, "authdemo_passkey_switch_on", switch="sign_in") == 1
    assert sample(metrics, "authdemo_guardrail_paused", guardrail="passkey_success") == 1
    report = flask(app, "pilot", "report")
    assert "  passkey: 75.0 % of 40 (95 % CI 59.8 % to 85.8 %)" in report
    assert "    pilot: 75.0 % of 40 (95 % CI 59.8 % to 85.8 %)" in report
    assert "outside:" not in report
    # Sign-in goes on; creating a passkey waits for a person's decision.
    assert sign_in(devices[1]) == 200
    someone = Browser(app.test_client())
    assert someone.sign_in_with_passkey(devices[2]).status_code == 200
    assert someone.post_json(ADD_OPTIONS, someone.consent()).status_code == 403

    # 3. The next run changes nothing: paused once, audited once.
    clock.advance(minutes=15)
    assert "already off: nothing changed" in flask(app, "guardrails", "check")
    assert len(switch_changes(app)) == 1

    # 4. A person fixes the release and resumes; the guardrails judge a fresh window.
    clock.advance(minutes=30)
    flask(app, "passkeys", "resume", "enrolment", "--reason", "release 1.4.2 rolled back")
    resume = switch_changes(app)[-1]
    assert (resume["by"], resume["enrolment"]) == ("operator", True)
    assert resume["reason"] == "release 1.4.2 rolled back"
    metrics = scrape(app)
    assert sample(metrics, "authdemo_passkey_switch_on", switch="enrolment") == 1
    assert sample(metrics, "authdemo_guardrail_paused") == 0
    clock.advance(minutes=15)
    after = flask(app, "guardrails", "check")
    assert "passkey_success: - (0 of 0" in after
    assert len(switch_changes(app)) == 2
    again = Browser(app.test_client())
    assert again.sign_in_with_passkey(devices[2]).status_code == 200
    assert again.post_json(ADD_OPTIONS, again.consent()).status_code == 200
    report = flask(app, "pilot", "report")
    # The history stays: 30 + 10 failed + 3 since, by provider too (the software
    # authenticator discloses no AAGUID, like many synced passkeys).
    assert "  passkey: 76.7 % of 43 (95 % CI 62.3 % to 86.8 %)" in report
    assert "    pilot: 76.7 % of 43 (95 % CI 62.3 % to 86.8 %)" in report
    assert "  pilot: 33 successful sign-ins" in report
    assert "outside:" not in report
    assert "  provider not disclosed (zero AAGUID): 76.7 % of 43" in report
