"""Operator commands: ``flask db upgrade``, ``flask db revision``.

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


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from authdemo import database

    database.revision(current_app, message)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
