"""Issue 20 item 4: ``flask guardrails check`` pauses passkey enrolment when a guardrail is
breached, and nothing else.

Driven with a frozen clock and synthetic events written through the app's own call sites
(``audit.record``, the complaints use case), as the sign-in, recovery and consent use cases
write them; the command is run as an operator or the systemd timer runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo import audit
from authdemo.audit import Event
from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent
from authdemo.pilot import complaints
from tests.conftest import make_app
from tests.support.scrape import sample, scrape


def events(app: Flask, clock: FrozenClock, event: Event, n: int, **details: Any) -> None:
    with app.app_context():
        for _ in range(n):
            audit.record(db.session, event, now=clock.now(), **details)
        db.session.commit()


def passkey_sign_ins(app: Flask, clock: FrozenClock, *, ok: int, failed: int) -> None:
    events(app, clock, Event.SIGN_IN_SUCCEEDED, ok, method="passkey")
    events(app, clock, Event.SIGN_IN_FAILED, failed, method="passkey", reason="signature")


def check(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["guardrails", "check"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def switch_changes(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.event == str(Event.PASSKEY_SWITCH_CHANGED))
            .order_by(AuditEvent.id)
        ).all()
    return list(rows)


def status(app: Flask) -> str:
    return str(app.test_cli_runner().invoke(args=["passkeys", "status"]).output)


def test_below_the_minimum_sample_nothing_happens(app: Flask, clock: FrozenClock) -> None:
    passkey_sign_ins(app, clock, ok=0, failed=49)  # 0 % success, but 49 < 50 attempts
    output = check(app)
    assert "passkey_success: 0 % (0 of 49; floor 90 %): not judged (fewer than 50)" in output
    assert "nothing changed" in output
    assert switch_changes(app) == []
    assert "enrolment: on" in status(app)


def test_answers_from_a_stale_tab_are_not_failed_sign_ins(app: Flask, clock: FrozenClock) -> None:
    # A tab opened before another answers a ceremony the cookie no longer holds: refused
    # and audited, but nobody failed to sign in (tests/functional/test_passkey_signin.py).
    passkey_sign_ins(app, clock, ok=60, failed=0)
    events(app, clock, Event.SIGN_IN_FAILED, 40, method="passkey", reason="challenge_mismatch")
    output = check(app)
    assert "passkey_success: 100 % (60 of 60" in output
    assert switch_changes(app) == []


def test_a_breach_pauses_enrolment_once_audited_with_the_figures(
    app: Flask, clock: FrozenClock
) -> None:
    passkey_sign_ins(app, clock, ok=40, failed=10)  # 80 % of 50 attempts: below 90 %
    output = check(app)
    assert "passkey_success: 80 % (40 of 50; floor 90 %): BREACHED" in output
    assert "passkey enrolment paused by the passkey_success guardrail" in output
    [change] = switch_changes(app)
    assert change["switch"] == "passkey_enrolment"
    assert change["enrolment"] is False
    assert change["by"] == "guardrail:passkey_success"
    assert change["reason"].startswith("guardrail passkey_success: 80 % below 90 % (40 of 50")
    assert change["figures"]["passkey_success"] == {
        "numerator": 40,
        "denominator": 50,
        "rate": 0.8,
        "limit": 0.9,
        "floor": True,
        "min_sample": 50,
    }
    assert "enrolment: off (paused at runtime)" in status(app)
    assert "sign-in: on" in status(app)  # never sign-in

    clock.advance(minutes=15)
    again = check(app)
    assert "BREACHED" in again
    assert "already off: nothing changed" in again
    assert len(switch_changes(app)) == 1  # paused exactly once


def test_recovery_does_not_resume_enrolment(app: Flask, clock: FrozenClock) -> None:
    passkey_sign_ins(app, clock, ok=40, failed=10)
    check(app)
    clock.advance(hours=25)  # the breach has left the window
    passkey_sign_ins(app, clock, ok=500, failed=0)
    output = check(app)
    assert "passkey_success: 100 % (500 of 500; floor 90 %): ok" in output
    assert "enrolment: off (paused at runtime)" in status(app)
    assert len(switch_changes(app)) == 1


def test_events_older_than_the_window_do_not_count(app: Flask, clock: FrozenClock) -> None:
    passkey_sign_ins(app, clock, ok=0, failed=30)
    clock.advance(hours=24, seconds=1)
    passkey_sign_ins(app, clock, ok=50, failed=0)
    assert "passkey_success: 100 % (50 of 50" in check(app)
    assert switch_changes(app) == []


def test_a_person_resuming_starts_a_fresh_window(app: Flask, clock: FrozenClock) -> None:
    passkey_sign_ins(app, clock, ok=40, failed=10)
    check(app)
    clock.advance(minutes=30)
    resumed = app.test_cli_runner().invoke(
        args=["passkeys", "resume", "enrolment", "--reason", "fixed the RP ID typo"]
    )
    assert resumed.exit_code == 0, resumed.output
    clock.advance(minutes=5)
    output = check(app)
    assert "passkey_success: - (0 of 0" in output
    assert "enrolment: on" in status(app)
    assert [c["by"] for c in switch_changes(app)] == ["guardrail:passkey_success", "operator"]


@pytest.mark.parametrize(
    ("guardrail", "overrides", "write", "line"),
    [
        (
            "ceremony_problems",
            {"GUARDRAIL_CEREMONY_PROBLEMS_MIN_SAMPLE": "10"},
            lambda e: (
                e(Event.PASSKEY_CEREMONY_PROBLEM, 4, method="passkey", purpose="sign_in"),
                e(Event.SIGN_IN_SUCCEEDED, 6, method="passkey"),
            ),
            "ceremony_problems: 40 % (4 of 10; ceiling 30 %): BREACHED",
        ),
        (
            "lockouts",
            {"GUARDRAIL_LOCKOUTS_MIN_SAMPLE": "10"},
            lambda e: (
                e(Event.RECOVERY_CODE_USED, 1, remaining=9),
                e(Event.OPERATOR_RECOVERY, 1, verified_by="ticket"),
                e(Event.SIGN_IN_SUCCEEDED, 49, method="password_totp"),
            ),
            "lockouts: 40 per 1,000 (2 of 50; ceiling 20 per 1,000): BREACHED",
        ),
        (
            "withdrawals",
            {"GUARDRAIL_WITHDRAWALS_MIN_SAMPLE": "10"},
            lambda e: (
                e(Event.CONSENT_WITHDRAWN, 1, method="account:withdraw-button"),
                e(Event.SIGN_IN_SUCCEEDED, 10, method="passkey"),
            ),
            "withdrawals: 10 % (1 of 10; ceiling 5 %): BREACHED",
        ),
    ],
)
def test_each_guardrail_pauses_enrolment_when_breached(
    tmp_path: Path,
    clock: FrozenClock,
    guardrail: str,
    overrides: dict[str, str],
    write: Any,
    line: str,
) -> None:
    app = make_app(tmp_path, clock, **overrides)
    write(lambda event, n, **details: events(app, clock, event, n, **details))
    output = check(app)
    assert line in output
    assert [c["by"] for c in switch_changes(app)] == [f"guardrail:{guardrail}"]


def test_complaints_above_their_ceiling_pause_enrolment(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock, GUARDRAIL_COMPLAINTS_MIN_SAMPLE="100")
    events(app, clock, Event.SIGN_IN_SUCCEEDED, 100, method="password_totp")
    with app.app_context():
        for _ in range(2):
            report = complaints.parse_report("passkey_sign_in", None)
            complaints.submit(
                db.session, report, now=clock.now(), user_id=None, method=None, cohort="unknown"
            )
        db.session.commit()
    assert "complaints: 20 per 1,000 (2 of 100; ceiling 10 per 1,000): BREACHED" in check(app)
    assert [c["by"] for c in switch_changes(app)] == ["guardrail:complaints"]


def test_metrics_show_which_guardrail_paused_enrolment(app: Flask, clock: FrozenClock) -> None:
    before = scrape(app)
    assert sample(before, "authdemo_passkey_switch_on", switch="enrolment") == 1
    assert sample(before, "authdemo_guardrail_paused", guardrail="passkey_success") == 0
    passkey_sign_ins(app, clock, ok=40, failed=10)
    check(app)
    after = scrape(app)
    assert sample(after, "authdemo_passkey_switch_on", switch="enrolment") == 0
    assert sample(after, "authdemo_passkey_switch_on", switch="sign_in") == 1
    assert sample(after, "authdemo_guardrail_paused", guardrail="passkey_success") == 1
    assert sample(after, "authdemo_guardrail_paused", guardrail="complaints") == 0
