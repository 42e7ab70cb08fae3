"""No codes left: the organisation checks the person's identity its own way, then the
operator issues new recovery codes. Nothing else bypasses the person's ways in."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, UserSession
from tests.conftest import Browser

CHECK = "video call, passport seen by agent 12, ticket 4711"


def _issue(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["recovery", "issue-codes", *args])


def test_operator_issues_new_codes_after_an_identity_check(
    app: Flask, browser: Browser, new_browser, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock)
    result = _issue(app, account.username, "--verified-by", CHECK, "--yes")
    assert result.exit_code == 0, result.output
    codes = re.findall(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", result.output)
    assert len(codes) == 10
    with app.app_context():
        assert db.session.scalars(select(UserSession)).all() == []  # every session ended
        details = db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.event == "operator.recovery_codes_issued")
        ).all()
    assert details == [{"verified_by": CHECK}]
    old = new_browser().post_form(
        "/signin/recovery",
        {"username": account.username, "recovery_code": account.recovery_codes[0]},
    )
    assert old.status_code == 401
    new = new_browser().post_form(
        "/signin/recovery", {"username": account.username, "recovery_code": codes[0]}
    )
    assert new.status_code == 302
    assert new.headers["Location"].endswith("/account/recover")  # restricted, as always


def test_the_identity_check_and_confirmation_are_required(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock)
    assert _issue(app, account.username, "--yes").exit_code == 2
    assert _issue(app, account.username, "--verified-by", "   ", "--yes").exit_code == 2
    assert _issue(app, account.username, "--verified-by", CHECK).exit_code != 0


def test_an_unknown_username_is_a_clear_error(app: Flask) -> None:
    result = _issue(app, "nobody", "--verified-by", CHECK, "--yes")
    assert result.exit_code == 1
    assert "no account with the username 'nobody'" in result.output
