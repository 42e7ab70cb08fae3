"""``flask passkeys record-switches``: the kill-switch state in the audit trail.

Run once per deployment, after ``flask db upgrade`` (``make run``, ``make serve`` and
docs/deployment.md do), so the trail shows when passkeys were switched off and on.
``create_app`` itself does no database I/O.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from authdemo import clock, current
from authdemo.consent import rollout
from authdemo.extensions import db

passkeys_cli = AppGroup("passkeys", help="Passkey sign-in switches.")


@passkeys_cli.command("record-switches")
def record_switches() -> None:
    """Audit the kill-switch and rollout state if it changed since the last record."""
    changed = rollout.record_switch_state(db.session, current.settings(), now=clock.now())
    db.session.commit()
    click.echo("switch state recorded" if changed else "switch state unchanged")


def register_commands(app: Flask) -> None:
    # The runtime switches' pause, resume and status join this group (authdemo/pilot/cli.py).
    from authdemo.pilot import cli as pilot_cli  # noqa: F401

    app.cli.add_command(passkeys_cli)
