"""A real SQLAlchemy session over a migrated SQLite database, with no Flask app at all,
for the service-level tests (issue 14 item 6).

The schema comes from the project's own Alembic migrations, the connection gets the same
PRAGMAs the app sets (foreign keys on: erasure and cascades depend on them), and the
collaborators a route would build from settings are built here from plain values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.orm import Session

from authdemo.database import alembic_config
from authdemo.fallback.passwords import Hasher, PasswordPolicy
from authdemo.fallback.service import Fallback
from authdemo.models import UserSession
from authdemo.passkeys.service import RelyingParty
from authdemo.secrets_at_rest import KeyedHash, SecretBox
from authdemo.sessions.service import ActiveSession, SessionPolicy

MASTER_KEY = bytes(range(32))
POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
RP = RelyingParty(
    id="localhost",
    name="authdemo",
    origin="http://localhost:5000",
    algorithms=(-8, -7, -257),
    ceremony_lifetime=timedelta(minutes=5),
    ceremony_box=SecretBox.from_master_keys((MASTER_KEY,), "passkey-ceremony"),
)
#: Tables a refused use case may change (decisions 0012, 0019): the used challenge, the trail.
BOOKKEEPING = frozenset({"used_challenges", "audit_events"})


def fallback_collaborators() -> Fallback:
    """Password + code collaborators as the app builds them, with a cheap argon2 setting."""
    return Fallback(
        policy=PasswordPolicy(8, 256),
        hasher=Hasher(memory_kib=1024, time_cost=1, parallelism=1),
        totp_box=SecretBox.from_master_keys((MASTER_KEY,), "totp-secret"),
        recovery_hash=KeyedHash.from_master_keys((MASTER_KEY,), "recovery-code"),
        recovery_count=10,
        totp_window=1,
        enrolment_lifetime=timedelta(minutes=10),
    )


def migrated_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


@contextmanager
def service_session(path: Path) -> Iterator[Session]:
    engine = migrated_engine(path)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def rows(session: Session, *, except_tables: frozenset[str] = frozenset()) -> dict[str, list[Any]]:
    """Every row of every table, full contents, as committed (read on its own connection)."""
    bind = session.get_bind()
    assert isinstance(bind, Engine)
    found: dict[str, list[Any]] = {}
    with bind.connect() as connection:
        for name in inspect(connection).get_table_names():
            if name in except_tables or name == "alembic_version":
                continue
            result = connection.execute(text(f'SELECT * FROM "{name}"'))
            found[name] = sorted((tuple(row) for row in result), key=repr)
    return found


def latest_session(session: Session, user_id: str) -> ActiveSession:
    """The account's newest session as a request would carry it (``sessions.resolve``'s
    fields, read from its row): what a use case is given as ``active`` or ``replacing``."""
    row = (
        session.execute(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.id.desc())
        )
        .scalars()
        .first()
    )
    assert row is not None
    return ActiveSession(
        row.id,
        user_id,
        row.method,
        row.authenticated_at,
        row.restricted,
        row.idle_expires_at,
        row.absolute_expires_at,
    )
