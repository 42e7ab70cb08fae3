"""Runtime passkey switches (issue 20 item 1; docs/rollout.md): ``flask passkeys
pause|resume`` changes a table every instance reads, each app keeps its copy for at most
PASSKEY_SWITCH_CACHE_SECONDS, every change is audited, and the environment's switches stay
the start-up defaults (a switch off at start-up stays off)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.consent.rollout import ENROLMENT_OFF, SIGNIN_OFF
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import (
    audit_details,
    consent_body,
    page,
    sign_up_with_passkey,
)
from tests.support.authenticator import SoftwareAuthenticator

CHANGED = "config.passkey_switch_changed"


def passkeys(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["passkeys", *args])


def offers_a_passkey_at_sign_up(app: Flask, username: str) -> bool:
    browser = Browser(app.test_client())
    assert browser.choose_username(username).status_code == 302
    text = html.unescape(page(browser, "/signup/how"))
    if 'id="passkey-consent"' in text:
        return True
    assert ENROLMENT_OFF in text
    return False


def test_a_pause_reaches_another_instance_on_the_same_database_within_the_cache_time(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = make_app(tmp_path, clock)
    second = make_app(tmp_path, clock)  # another instance (or worker) on the same database
    assert offers_a_passkey_at_sign_up(second, "ann")  # its copy of the switches: on

    result = passkeys(first, "pause", "enrolment", "--reason", "pilot review")
    assert result.exit_code == 0, result.output
    assert "passkey enrolment paused" in result.output
    assert not offers_a_passkey_at_sign_up(first, "bea")  # the changing app drops its copy

    clock.advance(seconds=4)
    assert offers_a_passkey_at_sign_up(second, "cat")  # still within 5 s: the old copy
    clock.advance(seconds=1)
    assert not offers_a_passkey_at_sign_up(second, "dan")  # 5 s: every instance follows


def test_every_change_is_audited_with_who_and_why_and_a_repeat_changes_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock)
    assert passkeys(app, "pause", "enrolment", "--reason", "complaints rising").exit_code == 0
    repeat = passkeys(app, "pause", "enrolment", "--reason", "again")
    assert "was already paused" in repeat.output
    assert passkeys(app, "resume", "enrolment", "--reason", "fixed in 2.3").exit_code == 0
    assert audit_details(app, CHANGED) == [
        {
            "switch": "passkey_enrolment",
            "by": "operator",
            "reason": "complaints rising",
            "enrolment": False,
        },
        {
            "switch": "passkey_enrolment",
            "by": "operator",
            "reason": "fixed in 2.3",
            "enrolment": True,
        },
    ]


def test_a_change_needs_a_reason(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock)
    assert passkeys(app, "pause", "enrolment").exit_code == 2
    blank = passkeys(app, "pause", "enrolment", "--reason", "  ")
    assert blank.exit_code == 2
    assert "reason" in blank.output
    assert audit_details(app, CHANGED) == []


def test_a_switch_off_at_start_up_stays_off_whatever_the_table_says(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_ENROLMENT_ENABLED="false")
    result = passkeys(app, "resume", "enrolment", "--reason", "try")
    assert "off (AUTHDEMO_PASSKEY_ENROLMENT_ENABLED=false at start-up)" in result.output
    assert not offers_a_passkey_at_sign_up(app, "eve")


def test_status_says_what_every_worker_will_see(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    passkeys(app, "pause", "sign-in", "--reason", "verification bug")
    assert passkeys(app, "status").output.splitlines() == [
        "enrolment: on",
        "sign-in: off (paused at runtime)",
        "pilot: 10 % of accounts and sign-ups",
    ]


def _problem_detail(response: Any) -> str:
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    detail: str = response.get_json()["detail"]
    return detail


def test_enrolment_paused_never_strands_anyone_existing_passkeys_keep_signing_in(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    app = make_app(tmp_path, clock)
    browser = Browser(app.test_client())
    sign_up_with_passkey(app, browser, authenticator)
    browser.sign_out()
    passkeys(app, "pause", "enrolment", "--reason", "guardrail drill")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    refused = browser.post_json("/api/passkeys/add/options", consent_body(app))
    assert _problem_detail(refused) == ENROLMENT_OFF


def test_sign_in_paused_applies_the_ways_in_rules_and_says_so_plainly(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    """A passkey-only person has no way in while passkey sign-in is paused: the sign-in
    page says why and points to the recovery code, which opens a restricted session."""
    app = make_app(tmp_path, clock)
    browser = Browser(app.test_client())
    sign_up_with_passkey(app, browser, authenticator)
    browser.sign_out()
    passkeys(app, "pause", "sign-in", "--reason", "verification bug")
    text = html.unescape(page(browser, "/signin"))
    assert SIGNIN_OFF in text
    assert 'id="signin-passkey"' not in text
    assert "/signin/recovery" in text
    assert _problem_detail(browser.post_json("/api/passkeys/sign-in/options")) == SIGNIN_OFF
