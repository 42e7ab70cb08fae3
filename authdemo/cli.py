"""Operator commands: ``flask db upgrade``, ``flask db current``, ``flask db downgrade``,
``flask db revision``.

Data-subject requests and ``flask retention purge`` live in authdemo/privacy/cli.py.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the database schema."""
    # Imported here: Alembic (with Mako and Pygments) is ~20 MB a web worker never needs.
    from authdemo import database

    database.upgrade(current_app, revision)
    click.echo(f"database at revision {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Say which revision the database is at, and which one this release expects."""
    from authdemo import database

    at, expected = database.current(current_app), database.head()
    click.echo(f"database at revision {at or '(none)'}; this release expects {expected}")
    if at != expected:
        raise SystemExit(1)


@db_cli.command("downgrade")
@click.option("--revision", required=True, help="The revision to go back to, e.g. 0002.")
@click.option("--yes", is_flag=True, help="Confirm: columns and tables added since are dropped.")
def db_downgrade(revision: str, yes: bool) -> None:
    """Undo migrations down to REVISION (docs/deployment.md, section 8: rollback).

    A downgrade drops what the newer migrations added, with whatever was written into it
    since; it cannot bring back anything an upgrade or the newer code deleted."""
    from authdemo import database

    if not yes:
        raise click.UsageError(
            "this drops the columns and tables added since, with their data; add --yes"
        )
    database.downgrade(current_app, revision)
    click.echo(f"database at revision {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from authdemo import database

    database.revision(current_app, message)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
