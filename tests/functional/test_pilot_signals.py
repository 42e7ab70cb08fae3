"""Issue 20 item 3: the passkey pilot's guardrail signals on /metrics, by method and
cohort only, and the page script's report of a ceremony the browser ended with an error.

Read from /metrics as Prometheus reads it (tests/support/scrape.py); the cohort is set
the way an operator sets it (AUTHDEMO_PASSKEY_PILOT_PERCENT 100: everyone is in; 0:
nobody is), never computed by the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.scrape import sample, scrape

PROBLEMS = "/api/passkeys/problems"


def test_a_ceremony_problem_is_counted_by_ceremony_and_error_name_and_kept_without_an_account(
    app: Flask, browser: Browser
) -> None:
    before = scrape(app)
    answer = browser.post_json(PROBLEMS, {"ceremony": "sign_in", "error": "NotAllowedError"})
    assert answer.status_code == 204
    after = scrape(app)
    name = "authdemo_passkey_ceremony_problems_total"
    labels = {"ceremony": "sign_in", "error": "NotAllowedError"}
    assert sample(after, name, **labels) - sample(before, name, **labels) == 1
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.user_ref, AuditEvent.details).where(
                AuditEvent.event == "passkey.ceremony_problem"
            )
        ).all()
    assert [(row.user_ref, row.details) for row in rows] == [
        (None, {"method": "passkey", "purpose": "sign_in", "reason": "NotAllowedError"})
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"ceremony": "sign_in", "error": "NotAllowedError: the user cancelled on iPhone 15"},
        {"ceremony": "sign_in", "error": "TypeError"},
        {"ceremony": "payment", "error": "NotAllowedError"},
        {"ceremony": "sign_in", "error": "NotAllowedError", "message": "anything"},
        {"ceremony": "sign_in"},
        {"ceremony": ["sign_in"], "error": "NotAllowedError"},
    ],
)
def test_a_ceremony_problem_outside_the_fixed_lists_is_refused_and_not_kept(
    app: Flask, browser: Browser, body: dict[str, object]
) -> None:
    answer = browser.post_json(PROBLEMS, body)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    with app.app_context():
        kept = db.session.scalars(
            select(AuditEvent.id).where(AuditEvent.event == "passkey.ceremony_problem")
        ).all()
    assert kept == []


def reported_error_names(app: Flask) -> list[str]:
    """The error names static/js/webauthn.js reports, read from the script the browser gets
    (the one list outside authdemo/pilot/signals.py: a module a strict CSP lets the page
    load cannot import Python's, and the script must not post names the server refuses)."""
    script = app.test_client().get("/static/js/webauthn.js").get_data(as_text=True)
    found = re.search(r"const REPORTED_ERRORS = new Set\(\[(.*?)\]\);", script, re.DOTALL)
    assert found is not None, "webauthn.js no longer lists REPORTED_ERRORS where this looks"
    return re.findall(r'"(\w+)"', found.group(1))


def test_the_script_reports_exactly_the_error_names_the_server_and_its_document_accept(
    app: Flask, browser: Browser
) -> None:
    reported = reported_error_names(app)
    document = app.test_client().get("/openapi.json").get_json()
    documented = document["components"]["schemas"]["CeremonyProblem"]["properties"]["error"]
    assert sorted(reported) == sorted(documented["enum"])
    for name in reported:
        answer = browser.post_json(PROBLEMS, {"ceremony": "sign_in", "error": name})
        assert answer.status_code == 204, name


def test_a_ceremony_problem_report_needs_the_csrf_token(app: Flask) -> None:
    client = app.test_client()
    answer = client.post(PROBLEMS, json={"ceremony": "add", "error": "InvalidStateError"})
    assert answer.status_code == 400


def test_ceremony_problem_reports_are_rate_limited_per_address(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, RATELIMIT_CEREMONY_PROBLEM="2 per minute")
    browser = Browser(app.test_client())
    body = {"ceremony": "sign_up", "error": "NotAllowedError"}
    statuses = [browser.post_json(PROBLEMS, body).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]


@pytest.mark.parametrize(("percent", "cohort"), [("100", "pilot"), ("0", "outside")])
def test_sign_ins_lockouts_and_opt_outs_are_counted_by_cohort(
    tmp_path: Path, clock: FrozenClock, percent: str, cohort: str
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT=percent)
    browser = Browser(app.test_client())
    account = browser.sign_up_with_password(clock, "cohortperson")
    browser.sign_out()
    before = scrape(app)
    clock.advance(seconds=31)
    assert browser.sign_in_with_password(account, clock).status_code == 302
    browser.sign_out()
    recovered = browser.post_form(
        "/signin/recovery",
        {"username": account.username, "recovery_code": account.recovery_codes[0]},
    )
    assert recovered.status_code == 302
    after = scrape(app)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    signed_in = "authdemo_pilot_sign_ins_total"
    assert moved(signed_in, method="password_totp", cohort=cohort) == 1
    assert moved(signed_in, method="recovery_code", cohort=cohort) == 1
    assert moved("authdemo_pilot_sign_in_seconds_count", method="password_totp", cohort=cohort) == 1
    assert moved("authdemo_lockouts_total", kind="recovery_code", cohort=cohort) == 1
    assert account.username not in after


def test_a_withdrawal_and_a_no_thanks_are_counted_as_opt_outs_by_cohort(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from tests.functional.test_consent_signup import _decline_then_sign_up_with_password
    from tests.functional.test_consent_withdrawal import withdraw

    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="100")
    browser = Browser(app.test_client())
    before = scrape(app)
    assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "optoutperson").status_code == 200
    assert withdraw(app, browser).status_code in (200, 302, 303)
    browser.sign_out()
    other = Browser(app.test_client())
    _decline_then_sign_up_with_password(app, other, clock, "nothanksperson")
    after = scrape(app)
    name = "authdemo_passkey_opt_outs_total"
    for kind in ("withdrawn", "declined"):
        moved = sample(after, name, kind=kind, cohort="pilot")
        assert moved - sample(before, name, kind=kind, cohort="pilot") == 1, kind


def test_every_pilot_series_is_on_metrics_from_the_first_scrape(app: Flask) -> None:
    text = scrape(app)
    for line in (
        'authdemo_pilot_sign_ins_total{cohort="outside",method="passkey"}',
        'authdemo_passkey_ceremony_problems_total{ceremony="step_up",error="SecurityError"}',
        'authdemo_lockouts_total{cohort="pilot",kind="operator_recovery"}',
        'authdemo_passkey_opt_outs_total{cohort="unknown",kind="declined"}',
        'authdemo_complaints_total{category="locked_out",cohort="unknown"}',
    ):
        assert line in text, line
