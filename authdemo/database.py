"""Schema migrations with Alembic, against the app's own engine."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from flask import Flask

from authdemo.extensions import Database


def alembic_config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("authdemo").joinpath("migrations"))
    )
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    engine = Database.engine_for(app)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(app: Flask, revision: str) -> None:
    """Run the ``downgrade()`` of every migration above ``revision``, newest first, in one
    transaction. What a downgrade can and cannot give back: docs/deployment.md, section 8."""
    engine = Database.engine_for(app)
    config = alembic_config()
    with engine.begin() as connection:
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
