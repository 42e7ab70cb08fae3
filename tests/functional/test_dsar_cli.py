"""The operator CLI: ``flask users list``, ``flask dsar export|delete|reapply-erasures``
and ``flask retention purge``. Each request records how the requester's identity was
checked (GDPR Art 12(6)); unknown users and missing confirmations get clear errors."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, text

from authdemo.clock import FrozenClock
from authdemo.extensions import Database, db
from authdemo.models import (
    AuditEvent,
    ConsentEvent,
    Enrolment,
    UsedChallenge,
    User,
    UserSession,
)
from authdemo.privacy import service
from tests.conftest import Browser, checkpoint, uses_sqlite
from tests.functional.test_privacy_export import schema_validator
from tests.support.authenticator import SoftwareAuthenticator

VERIFIED = "signed-in confirmation message, ticket 4711"


def flask(app: Flask, *args: str) -> Result:
    result: Result = app.test_cli_runner().invoke(args=list(args))
    return result


@pytest.fixture
def people(browser: Browser, new_browser: Any, clock: FrozenClock) -> dict[str, Browser]:
    browser.sign_up_with_passkey(SoftwareAuthenticator(), "ada")
    bob = new_browser()
    bob.sign_up_with_password(clock, "bob")
    return {"ada": browser, "bob": bob}


def audit_details(app: Flask, event: str) -> list[tuple[str | None, dict[str, Any]]]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.user_ref, AuditEvent.details).where(AuditEvent.event == event)
        ).all()
    return [(row.user_ref, row.details) for row in rows]


# --- users list -----------------------------------------------------------------------


def test_users_list_shows_each_account_and_its_ways_in(app: Flask, people: Any) -> None:
    result = flask(app, "users", "list", "--verified-by", "support ticket 12, signed-in request")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["username", "created", "passkeys", "password+code", "sessions"]
    assert lines[1].split()[0] == "ada"
    assert lines[1].split()[-3:] == ["1", "no", "1"]
    assert lines[2].split()[0] == "bob"
    assert lines[2].split()[-3:] == ["0", "yes", "1"]
    assert lines[-1] == "2 account(s)"


def test_users_list_needs_a_reason_and_is_audited(app: Flask, people: Any) -> None:
    assert flask(app, "users", "list").exit_code == 2
    flask(app, "users", "list", "--verified-by", "breach scoping, incident 7")
    assert audit_details(app, "operator.users_listed") == [
        (None, {"verified_by": "breach scoping, incident 7", "count": 2})
    ]


def test_retention_purge_is_audited(app: Flask, people: Any) -> None:
    assert flask(app, "retention", "purge").exit_code == 0
    assert [details["count"] >= 0 for _, details in audit_details(app, "retention.purged")] == [
        True
    ]


def test_users_list_search_narrows_the_list(app: Flask, people: Any) -> None:
    assert (
        "bob"
        not in flask(
            app,
            "users",
            "list",
            "--search",
            "ad",
            "--verified-by",
            "support ticket 12, signed-in request",
        ).output
    )
    assert (
        "no accounts matching 'zz'"
        in flask(
            app,
            "users",
            "list",
            "--search",
            "zz",
            "--verified-by",
            "support ticket 12, signed-in request",
        ).output
    )


# --- dsar export ----------------------------------------------------------------------


def test_dsar_export_writes_a_private_file_valid_against_the_schema(
    app: Flask, people: Any, tmp_path: Path
) -> None:
    out = tmp_path / "ada.json"
    result = flask(app, "dsar", "export", "ada", "--out", str(out), "--verified-by", VERIFIED)
    assert result.exit_code == 0, result.output
    assert "audit_events: " in result.output  # progress, section by section
    assert (os.stat(out).st_mode & 0o777) == 0o600
    document = json.loads(out.read_text())
    schema_validator().validate(document)
    assert document["account"]["username"] == "ada"
    assert document["requested_via"] == "operator"


def test_dsar_export_is_audited_with_how_the_identity_was_checked(
    app: Flask, people: Any, tmp_path: Path
) -> None:
    flask(
        app, "dsar", "export", "ADA", "--out", str(tmp_path / "a.json"), "--verified-by", VERIFIED
    )
    with app.app_context():
        ada_id = db.session.scalar(select(User.id).where(User.username == "ada"))
    assert audit_details(app, "operator.dsar_export") == [(ada_id, {"verified_by": VERIFIED})]


def test_dsar_export_of_an_unknown_user_fails_clearly_and_writes_nothing(
    app: Flask, people: Any, tmp_path: Path
) -> None:
    out = tmp_path / "x.json"
    result = flask(app, "dsar", "export", "nobody", "--out", str(out), "--verified-by", VERIFIED)
    assert result.exit_code == 1
    assert "no account with the username 'nobody'" in result.output
    assert not out.exists()
    assert audit_details(app, "operator.dsar_export") == []


def test_dsar_export_refuses_to_overwrite_a_file_unless_forced(
    app: Flask, people: Any, tmp_path: Path
) -> None:
    out = tmp_path / "a.json"
    out.write_text("keep me")
    result = flask(app, "dsar", "export", "ada", "--out", str(out), "--verified-by", VERIFIED)
    assert result.exit_code == 1
    assert "exists" in result.output
    assert out.read_text() == "keep me"
    forced = flask(
        app, "dsar", "export", "ada", "--out", str(out), "--verified-by", VERIFIED, "--force"
    )
    assert forced.exit_code == 0
    assert json.loads(out.read_text())["account"]["username"] == "ada"


@pytest.mark.parametrize("command", ["export", "delete"])
def test_dsar_commands_require_a_record_of_the_identity_check(
    app: Flask, people: Any, tmp_path: Path, command: str
) -> None:
    extra = ["--out", str(tmp_path / "a.json")] if command == "export" else ["--yes"]
    missing = flask(app, "dsar", command, "ada", *extra)
    assert missing.exit_code == 2
    assert "--verified-by" in missing.output
    blank = flask(app, "dsar", command, "ada", *extra, "--verified-by", "   ")
    assert blank.exit_code == 2
    assert "identity was checked" in blank.output
    assert (
        flask(
            app,
            "users",
            "list",
            "--search",
            "ada",
            "--verified-by",
            "support ticket 12, signed-in request",
        ).output.count("ada")
        == 1
    )


# --- dsar delete ----------------------------------------------------------------------


def test_dsar_delete_without_yes_deletes_nothing(app: Flask, people: Any) -> None:
    result = flask(app, "dsar", "delete", "ada", "--verified-by", VERIFIED)
    assert result.exit_code == 2
    assert "run again with --yes" in result.output
    with app.app_context():
        assert service.find_person(db.session, username="ada") is not None


def test_dsar_delete_erases_the_account_and_reports_each_step(
    app: Flask, people: dict[str, Browser]
) -> None:
    with app.app_context():
        bob = service.find_person(db.session, username="bob")
    assert bob is not None
    result = flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    assert result.exit_code == 0, result.output
    assert "password_credentials: 1 deleted" in result.output
    assert "recovery_codes: 10 deleted" in result.output
    assert "kept, pseudonymised" in result.output
    if uses_sqlite(app):
        assert "sqlite: write-ahead log checkpointed and truncated" in result.output
    else:
        assert "postgresql: VACUUM" in result.output
    with app.app_context():
        assert {t: service.count_about(db.session, bob, t) for t in service.ROWS_ABOUT} == (
            dict.fromkeys(service.ROWS_ABOUT, 0)
        )
    assert people["bob"].client.get("/account").status_code == 302  # signed out
    assert people["ada"].client.get("/account").status_code == 200  # untouched


def test_dsar_delete_is_audited_under_the_pseudonym_with_the_identity_check(
    app: Flask, people: Any
) -> None:
    flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    [(ref, details)] = audit_details(app, "operator.dsar_erasure")
    assert str(ref).startswith("erased:")
    assert details == {"verified_by": VERIFIED}
    assert audit_details(app, "account.deleted") == [(ref, {"via": "operator"})]


def test_dsar_delete_of_an_unknown_user_fails_clearly(app: Flask, people: Any) -> None:
    result = flask(app, "dsar", "delete", "nobody", "--yes", "--verified-by", VERIFIED)
    assert result.exit_code == 1
    assert "no account with the username 'nobody'" in result.output
    bad = flask(app, "dsar", "delete", "<script>", "--yes", "--verified-by", VERIFIED)
    assert bad.exit_code == 1
    assert "is not a valid username" in bad.output


@pytest.mark.sqlite_only
def test_reapply_erasures_after_restoring_a_backup(app: Flask, people: Any, tmp_path: Path) -> None:
    database = tmp_path / "test.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    checkpoint(app)
    shutil.copy(database, backup)
    flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    erasures = audit_details(app, "account.deleted")
    # Restore the backup, keeping the audit trail (which records the erasure) as it is now.
    Database.engine_for(app).dispose()
    shutil.copy(backup, database)
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    with app.app_context():
        assert service.find_person(db.session, username="bob") is not None
        for ref, details in erasures:
            db.session.add(
                AuditEvent(
                    occurred_at=FrozenClock().now(),
                    event="account.deleted",
                    user_ref=ref,
                    details=details,
                )
            )
        db.session.commit()
    dry = flask(app, "dsar", "reapply-erasures")
    assert dry.exit_code == 2
    assert "1 account(s) here were erased" in dry.output
    result = flask(app, "dsar", "reapply-erasures", "--yes")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert service.find_person(db.session, username="bob") is None
        assert service.find_person(db.session, username="ada") is not None
    assert "No account" in flask(app, "dsar", "reapply-erasures").output


# --- retention purge ------------------------------------------------------------------


def test_retention_purge_deletes_what_is_past_retention_and_says_so(
    app: Flask, people: Any, clock: FrozenClock
) -> None:
    start = clock.now()
    with app.app_context():
        db.session.add_all(
            [
                UsedChallenge(
                    digest=secrets.token_bytes(32), expires_at=start + timedelta(minutes=5)
                ),
                Enrolment(
                    id=secrets.token_urlsafe(16),
                    kind="password_signup",
                    username="abandoned",
                    password_hash="x",
                    expires_at=start + timedelta(minutes=15),
                ),
            ]
        )
        db.session.commit()
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        # The people's own sign-ups used challenges too; all have expired 91 days on.
        used_before = db.session.scalar(select(func.count()).select_from(UsedChallenge))
    clock.advance(days=91)
    result = flask(app, "retention", "purge")
    assert result.exit_code == 0, result.output
    assert used_before is not None
    assert used_before > 1
    assert f"expired used challenges deleted: {used_before}" in result.output
    assert "expired sessions deleted: 2" in result.output
    assert "abandoned sign-ups and set-ups deleted: 1" in result.output
    assert (
        "audit events older than 90 days deleted (erasure records are kept 90 days, "
        f"for backups): {audit_before}" in result.output
    )
    with app.app_context():
        for model in (UsedChallenge, Enrolment, UserSession):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
        remaining = db.session.scalars(select(AuditEvent.event)).all()
        assert remaining == ["retention.purged"]  # only the record of this purge itself
    again = flask(app, "retention", "purge")
    assert again.exit_code == 0
    assert (
        "audit events older than 90 days deleted (erasure records are kept 90 days, for backups): 0"
        in again.output
    )


def test_retention_purge_keeps_what_is_within_retention(
    app: Flask, people: Any, clock: FrozenClock
) -> None:
    clock.advance(days=89)
    result = flask(app, "retention", "purge")
    assert (
        "audit events older than 90 days deleted (erasure records are kept 90 days, for backups): 0"
        in result.output
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0


def consent(app: Flask, user_ref: str, action: str, when: Any) -> None:
    with app.app_context():
        db.session.add(
            ConsentEvent(
                occurred_at=when,
                user_ref=user_ref,
                purpose="passkey_signin",
                action=action,
                notice_version="1",
                notice_language="en",
                notice_sha256="0" * 64,
                method="test",
            )
        )
        db.session.commit()


def test_retention_purge_removes_old_consent_events_but_keeps_the_decision_in_force(
    app: Flask, clock: FrozenClock, browser: Browser
) -> None:
    browser.sign_up_with_passkey(SoftwareAuthenticator(), "ada")
    with app.app_context():
        ada_id = db.session.scalar(select(User.id))
        db.session.execute(ConsentEvent.__table__.delete())
        db.session.commit()
    start = clock.now()
    consent(app, ada_id, "granted", start)
    consent(app, ada_id, "withdrawn", start + timedelta(days=1))
    consent(app, ada_id, "granted", start + timedelta(days=2))  # in force
    consent(app, "erased:" + "0" * 64, "granted", start)  # an erased account's
    clock.advance(days=3 * 365 + 10)
    result = flask(app, "retention", "purge")
    assert "(decisions still in force are kept), and declines older than 90 days: 3" in (
        result.output
    )
    with app.app_context():
        left = db.session.execute(select(ConsentEvent.user_ref, ConsentEvent.action)).all()
    assert [(r.user_ref, r.action) for r in left] == [(ada_id, "granted")]


def test_dsar_delete_on_postgresql_vacuums_the_tables_it_touched(app: Flask, people: Any) -> None:
    if uses_sqlite(app):
        pytest.skip("VACUUM is PostgreSQL's; this run uses SQLite (CI runs both)")
    result = flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    assert result.exit_code == 0, result.output
    with app.app_context():
        vacuumed = set(
            db.session.execute(
                text(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema() AND last_vacuum IS NOT NULL"
                )
            ).scalars()
        )
    assert {"users", "passkeys", "user_sessions", "audit_events"} - {"passkeys"} <= vacuumed


def test_dsar_delete_with_vacuum_full_rewrites_the_tables_on_postgresql(
    app: Flask, people: Any
) -> None:
    if uses_sqlite(app):
        pytest.skip("VACUUM FULL is PostgreSQL's; this run uses SQLite (CI runs both)")
    files = "SELECT pg_relation_filepath('users'), pg_relation_filepath('passkeys')"
    with app.app_context():
        before = db.session.execute(text(files)).one()
        db.session.rollback()
    args = ["dsar", "delete", "ada", "--yes", "--verified-by", VERIFIED, "--vacuum-full"]
    result = flask(app, *args)
    assert result.exit_code == 0, result.output
    assert "postgresql: VACUUM FULL" in result.output
    with app.app_context():
        after = db.session.execute(text(files)).one()
    # New files: the old ones, holding the deleted rows' bytes, are gone from the database.
    assert after[0] != before[0]
    assert after[1] != before[1]


def test_dsar_delete_clears_the_accounts_rate_limit_counters(
    app: Flask, people: Any, new_browser: Any, clock: FrozenClock
) -> None:
    attacker = new_browser()
    wrong = {"username": "bob", "password": "not the password at all", "code": "000000"}
    for _ in range(3):
        assert attacker.post_form("/signin/password", wrong).status_code == 401
    result = flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    [line] = [x for x in result.output.splitlines() if "rate-limit counters cleared" in x]
    assert int(line.rsplit(":", 1)[1]) > 0
    again = flask(app, "dsar", "delete", "ada", "--yes", "--verified-by", VERIFIED)
    assert "rate-limit counters cleared: 0" in again.output  # nobody guessed at ada
