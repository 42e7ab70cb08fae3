"""The schema commands an operator runs in a release (docs/deployment.md, section 8):
``flask db current`` after an upgrade, ``flask db downgrade`` for a rollback."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import inspect

from authdemo import database
from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from tests.conftest import Browser
from tests.support.authenticator import SoftwareAuthenticator


def flask(app: Flask, *args: str) -> Result:
    result: Result = app.test_cli_runner().invoke(args=list(args))
    return result


def schema(app: Flask) -> dict[str, Any]:
    """Every table with its columns, indexes and constraints, as the database reports them."""
    with Database.engine_for(app).connect() as connection:
        inspector = inspect(connection)
        return {
            table: (
                sorted(
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ),
                sorted(i["name"] or "" for i in inspector.get_indexes(table)),
                sorted(u["name"] or "" for u in inspector.get_unique_constraints(table)),
                sorted(f["name"] or "" for f in inspector.get_foreign_keys(table)),
            )
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }


def test_current_says_the_database_is_at_this_releases_head(app: Flask) -> None:
    result = flask(app, "db", "current")
    assert result.exit_code == 0, result.output
    assert f"at revision {database.head()}" in result.output


def test_downgrade_needs_a_confirmation_and_changes_nothing_without_it(app: Flask) -> None:
    before = schema(app)
    result = flask(app, "db", "downgrade", "--revision", "base")
    assert result.exit_code != 0
    assert "--yes" in result.output
    assert schema(app) == before


def test_current_fails_when_the_database_is_behind_this_release(app: Flask) -> None:
    assert flask(app, "db", "downgrade", "--revision", "-1", "--yes").exit_code == 0
    result = flask(app, "db", "current")
    assert result.exit_code == 1
    assert f"expects {database.head()}" in result.output


def test_every_downgrade_is_the_exact_inverse_of_its_upgrade(app: Flask) -> None:
    # Down to nothing and up again, one migration at a time: the same schema comes back,
    # so a rollback's downgrade leaves the schema the previous release created.
    at_head = schema(app)
    steps = []
    while database.current(app) is not None:
        steps.append(database.current(app))
        assert flask(app, "db", "downgrade", "--revision", "-1", "--yes").exit_code == 0
    assert schema(app) == {}
    assert len(steps) >= 3
    assert flask(app, "db", "upgrade").exit_code == 0
    assert schema(app) == at_head


#: Tables whose rows refer to an account (ON DELETE CASCADE from users).
ACCOUNT_ROWS = (
    "users",
    "passkeys",
    "consent_events",
    "recovery_codes",
    "password_credentials",
    "totp_credentials",
    "user_sessions",
)


def rows(app: Flask) -> dict[str, int]:
    with Database.engine_for(app).connect() as connection:
        tables = set(inspect(connection).get_table_names())
        return {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ACCOUNT_ROWS
            if table in tables
        }


def test_a_rollback_of_the_latest_release_keeps_every_account_and_passkey(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    """A downgrade that rebuilds the users table (SQLite cannot drop a column in place) must
    not take the rows that refer to it along: on SQLite it dropped the old table with
    foreign keys on, and ON DELETE CASCADE emptied passkeys, consent events and sessions
    (found in issue 19's review: one step back, from 0011 to 0010, lost every passkey)."""
    assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "ada").status_code == 200
    Browser(app.test_client()).sign_up_with_password(clock, "pat")
    before = rows(app)
    assert (before["users"], before["passkeys"], before["recovery_codes"]) == (2, 1, 10)
    assert flask(app, "db", "downgrade", "--revision", "-1", "--yes").exit_code == 0
    assert rows(app) == before
    assert flask(app, "db", "upgrade").exit_code == 0
    assert rows(app) == before
