"""Schema migrations with Alembic, against the app's own engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import Connection

from authdemo.extensions import Database


def alembic_config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("authdemo").joinpath("migrations"))
    )
    return config


class ForeignKeysBroken(RuntimeError):
    """A migration left rows that refer to rows that are gone; nothing was committed."""


@contextmanager
def _migrating(app: Flask) -> Iterator[Connection]:
    """One transaction for a whole migration run.

    On SQLite, foreign keys are off while it runs: SQLite cannot drop or change a column in
    place, so a batch migration copies the table and drops the old one, and with foreign
    keys on that drop deletes every row that refers to it (ON DELETE CASCADE: a downgrade
    of the users table emptied passkeys and credentials). The switch works only outside a
    transaction; before the commit, ``PRAGMA foreign_key_check`` must find nothing, and the
    connection goes back to the pool with foreign keys on (the SQLite recipe of Alembic's
    batch mode and of https://www.sqlite.org/lang_altertable.html, section 7)."""
    engine = Database.engine_for(app)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # The pragma takes effect at once (the driver begins no transaction for it);
            # end the one SQLAlchemy began around it: there is nothing in it to keep.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.rollback()
        try:
            with connection.begin():
                yield connection
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise ForeignKeysBroken("a migration broke a foreign key; rolled back")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.rollback()


def upgrade(app: Flask, revision: str = "head") -> None:
    config = alembic_config()
    with _migrating(app) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(app: Flask, revision: str) -> None:
    """Run the ``downgrade()`` of every migration above ``revision``, newest first, in one
    transaction. What a downgrade can and cannot give back: docs/deployment.md, section 8."""
    config = alembic_config()
    with _migrating(app) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current(app: Flask) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    with Database.engine_for(app).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The newest revision this release ships."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads  # tests/unit/test_migrations.py
    return str(heads[0])


def revision(app: Flask, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    engine = Database.engine_for(app)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
