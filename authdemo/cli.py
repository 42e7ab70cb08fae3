"""Operator commands: ``flask db upgrade``, ``flask retention purge``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from authdemo import clock, database
from authdemo.extensions import db
from authdemo.passkeys import ceremonies
from authdemo.sessions import service as sessions

db_cli = AppGroup("db", help="Database schema.")
retention_cli = AppGroup("retention", help="Retention schedule.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the database schema."""
    database.upgrade(current_app, revision)
    click.echo(f"database at revision {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    database.revision(current_app, message)


@retention_cli.command("purge")
def retention_purge() -> None:
    """Delete expired ceremonies and sessions. Safe to run from cron."""
    now = clock.now()
    expired_ceremonies = ceremonies.purge_expired(db.session, now=now)
    expired_sessions = sessions.purge_expired(db.session, now=now)
    db.session.commit()
    click.echo(f"expired ceremonies deleted: {expired_ceremonies}")
    click.echo(f"expired sessions deleted: {expired_sessions}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(retention_cli)
