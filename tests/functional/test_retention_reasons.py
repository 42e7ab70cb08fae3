"""Each record is kept as long as its reason lasts, and no longer (GDPR Art 5(1)(e)).

Issue 16 items 10 and 14, run the way an operator does, with the CLI:

- a "No thanks" to passkeys exists only so the person is not asked again within
  ``CONSENT_REASK_DAYS``; ``flask retention purge`` deletes it when that period ends,
  while a consent still in force is kept;
- an erasure record (``account.deleted``) is the tombstone that lets
  ``flask dsar reapply-erasures`` erase again an account a restored backup brings back. A
  backup may be up to ``BACKUP_RETENTION_DAYS`` old, so the tombstone outlives
  ``AUDIT_RETENTION_DAYS`` when backups are kept longer: a restore of a 121-day-old backup,
  with audit events kept 90 days, still loses no erasure.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from authdemo.audit import Event
from authdemo.clock import FrozenClock
from authdemo.extensions import Database, db
from authdemo.models import AuditEvent, ConsentEvent, User
from tests.conftest import Browser, checkpoint, make_app
from tests.support.authenticator import SoftwareAuthenticator

VERIFIED = "signed-in request, ticket 7"
_HIDDEN = re.compile(r'<input type="hidden" name="(notice_version|notice_sha256)" value="([^"]+)">')


def flask(app: Flask, *args: str) -> Result:
    result: Result = app.test_cli_runner().invoke(args=list(args))
    return result


def usernames(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(User.username)))


def ledger_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)))


def decline_then_sign_up_with_password(browser: Browser, clock: FrozenClock, name: str) -> None:
    """ "No thanks" on the sign-up page, with the fields the page itself carries."""
    assert browser.choose_username(name).status_code == 302
    fields = dict(_HIDDEN.findall(browser.client.get("/signup/how").get_data(as_text=True)))
    assert set(fields) == {"notice_version", "notice_sha256"}
    assert browser.post_form("/signup/no-passkey", fields).status_code == 302
    browser.sign_up_with_password(clock, name)


# --- declines go when the re-ask period ends -------------------------------------------------


def test_a_decline_is_purged_when_the_reask_period_ends_and_a_consent_in_force_is_kept(
    app: Flask, browser: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    browser.sign_up_with_passkey(SoftwareAuthenticator(), "ada")
    decline_then_sign_up_with_password(new_browser(), clock, "bob")
    assert sorted(ledger_actions(app)) == ["declined", "granted"]
    reask = app.extensions["authdemo.settings"].CONSENT_REASK_DAYS

    clock.advance(days=reask, seconds=-60)
    assert flask(app, "retention", "purge").exit_code == 0
    assert sorted(ledger_actions(app)) == ["declined", "granted"]

    clock.advance(seconds=120)
    result = flask(app, "retention", "purge")
    assert result.exit_code == 0, result.output
    assert f"declines older than {reask} days: 1" in result.output
    assert ledger_actions(app) == ["granted"]  # ada's consent, in force, stays


# --- erasure tombstones outlive the oldest backup ------------------------------------------------


@pytest.fixture
def long_backups(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(tmp_path, clock, AUDIT_RETENTION_DAYS=90, BACKUP_RETENTION_DAYS=180)


def take_backup(app: Flask, database: Path, backup: Path) -> None:
    checkpoint(app)
    shutil.copy(database, backup)


def restore_backup(app: Flask, backup: Path, database: Path) -> None:
    with app.app_context():
        db.session.close()
    Database.engine_for(app).dispose()
    shutil.copy(backup, database)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def saved_erasures(app: Flask, out: Path) -> list[dict[str, str]]:
    result = flask(app, "dsar", "erasures", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    erasures: list[dict[str, str]] = json.loads(out.read_text())["erasures"]
    return erasures


@pytest.mark.sqlite_only
def test_restoring_a_backup_older_than_the_audit_retention_loses_no_erasure(
    long_backups: Flask, clock: FrozenClock, tmp_path: Path
) -> None:
    app = long_backups
    database, backup = tmp_path / "test.sqlite3", tmp_path / "backup.sqlite3"
    Browser(app.test_client()).sign_up_with_passkey(SoftwareAuthenticator(), "ada")
    Browser(app.test_client()).sign_up_with_password(clock, "bob")
    take_backup(app, database, backup)  # day 0

    clock.advance(days=1)
    erased = flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    assert erased.exit_code == 0, erased.output

    clock.advance(days=120)  # past AUDIT_RETENTION_DAYS, within BACKUP_RETENTION_DAYS
    purged = flask(app, "retention", "purge")
    assert "(erasure records are kept 180 days, for backups)" in purged.output
    with app.app_context():
        kept = set(db.session.scalars(select(AuditEvent.event)))
    assert str(Event.SIGN_UP) not in kept  # the audit purge did run
    assert str(Event.ACCOUNT_DELETED) in kept

    # The operator's restore: save the erasure records, restore, apply them again.
    [tombstone] = saved_erasures(app, tmp_path / "erasures.json")
    assert tombstone["pseudonym"].startswith("erased:")
    restore_backup(app, backup, database)
    assert usernames(app) == {"ada", "bob"}  # the backup brought bob back
    result = flask(
        app, "dsar", "reapply-erasures", "--from", str(tmp_path / "erasures.json"), "--yes"
    )
    assert result.exit_code == 0, result.output
    assert usernames(app) == {"ada"}


def test_erasure_records_go_when_the_longest_backup_has_expired(
    long_backups: Flask, clock: FrozenClock, tmp_path: Path
) -> None:
    app = long_backups
    Browser(app.test_client()).sign_up_with_password(clock, "bob")
    flask(app, "dsar", "delete", "bob", "--yes", "--verified-by", VERIFIED)
    clock.advance(days=180, seconds=-60)
    flask(app, "retention", "purge")
    assert len(saved_erasures(app, tmp_path / "before.json")) == 1
    clock.advance(seconds=120)
    flask(app, "retention", "purge")
    assert saved_erasures(app, tmp_path / "after.json") == []


def test_a_file_that_is_not_erasure_records_is_refused(app: Flask, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps({"erasures": [{"pseudonym": "alice", "erased_at": "2026-01-01T00:00:00"}]})
    )
    result = flask(app, "dsar", "reapply-erasures", "--from", str(wrong))
    assert result.exit_code == 1
    assert "not a pseudonym" in result.output
