"""Which commits wait for the disk (docs/decisions/0011-durability-by-transaction.md).

A transaction that only stores a fresh ceremony challenge commits without an fsync (SQLite
``synchronous=NORMAL`` for that transaction; PostgreSQL ``synchronous_commit`` off for it);
everything else, the sign-in's own transaction included, commits durably.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert

from authdemo.extensions import Database, db
from authdemo.models import AuditEvent
from authdemo.models.base import table
from tests.conftest import Browser, FrozenClock, make_app, uses_sqlite
from tests.support.authenticator import SoftwareAuthenticator

SQLITE_FULL = 2  # what ``PRAGMA synchronous`` reads back for FULL
RELAXING = ("PRAGMA synchronous=NORMAL", "SET LOCAL synchronous_commit TO OFF")


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    sent: list[str] = []
    engine = Database.engine_for(app)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _durable_app(tmp_path: Path, clock: FrozenClock) -> Flask:
    # Ceremonies in the database (the Redis store writes nothing here), FULL on SQLite.
    return make_app(tmp_path, clock, SQLITE_SYNCHRONOUS="FULL", CEREMONY_STORE="database")


def _relaxed(sent: list[str]) -> list[str]:
    return [s for s in sent if s in RELAXING]


def test_sign_in_options_commit_without_waiting_for_the_disk(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    app = _durable_app(tmp_path, clock)
    browser = Browser(app.test_client())
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    browser.sign_out()
    browser.csrf  # noqa: B018 - load the sign-in page outside the recorded block

    with statements(app) as sent:
        options = browser.sign_in_options()
    relaxed = _relaxed(sent)
    assert len(relaxed) == 1, sent
    # Applied before the transaction's first statement, the challenge's INSERT.
    first_insert = next(i for i, s in enumerate(sent) if s.startswith("INSERT INTO ceremonies"))
    assert sent.index(relaxed[0]) < first_insert

    with statements(app) as sent:
        response = browser.post_json("/api/passkeys/sign-in/verify", authenticator.get(options))
    assert response.status_code == 200, response.get_json()
    assert _relaxed(sent) == [], "the sign-in's own transaction must be durable"


def test_sign_up_options_commit_without_waiting_for_the_disk(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    app = _durable_app(tmp_path, clock)
    browser = Browser(app.test_client())
    assert browser.choose_username("alice").status_code == 302
    with statements(app) as sent:
        options = browser.post_json("/api/passkeys/sign-up/options", browser.consent())
    assert options.status_code == 200
    assert len(_relaxed(sent)) == 1, sent

    with statements(app) as sent:
        created = browser.post_json(
            "/api/passkeys/sign-up/verify", authenticator.create(options.get_json())
        )
    assert created.status_code == 200, created.get_json()
    assert _relaxed(sent) == [], "creating the account must be durable"


def test_relaxed_durability_covers_one_transaction_only(tmp_path: Path, clock: FrozenClock) -> None:
    app = _durable_app(tmp_path, clock)
    audit = table(AuditEvent)
    row = {"occurred_at": clock.now(), "event": "test", "user_ref": None, "details": {}}
    with app.app_context(), statements(app) as sent:
        db.relax_durability()
        db.session.execute(insert(audit), row)
        db.session.commit()
        db.session.execute(insert(audit), row)
        db.session.commit()
    assert len(_relaxed(sent)) == 1, sent
    assert sent.index(_relaxed(sent)[0]) < sent.index(
        next(s for s in sent if s.startswith("INSERT INTO audit_events"))
    )


@pytest.mark.sqlite_only  # PostgreSQL's SET LOCAL ends with its transaction
def test_pooled_sqlite_connections_return_to_full_durability(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = _durable_app(tmp_path, clock)
    assert uses_sqlite(app)
    browser = Browser(app.test_client())
    for _ in range(3):
        browser.sign_in_options()
    engine = Database.engine_for(app)
    # Every connection the pool holds, each read back on its own.
    held = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        assert held, "the requests left no connection in the pool"
        for connection in held:
            cursor = connection.cursor()
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == SQLITE_FULL
            cursor.close()
    finally:
        for connection in held:
            connection.close()
