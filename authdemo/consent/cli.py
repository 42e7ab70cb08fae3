"""``flask passkeys record-switches``: the kill-switch state in the audit trail.
``flask consent verify-receipt FILE``: check a consent receipt offline.

``record-switches`` runs once per deployment, after ``flask db upgrade`` (``make run``,
``make serve`` and docs/deployment.md do), so the trail shows when passkeys were switched
off and on. ``create_app`` itself does no database I/O.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from authdemo import clock, current
from authdemo.consent import rollout
from authdemo.extensions import db
from authdemo.receipts import service as receipts
from authdemo.receipts import wiring as receipts_wiring

passkeys_cli = AppGroup("passkeys", help="Passkey sign-in switches.")
consent_cli = AppGroup("consent", help="Consent receipts.")


@passkeys_cli.command("record-switches")
def record_switches() -> None:
    """Audit the kill-switch and rollout state if it changed since the last record."""
    changed = rollout.record_switch_state(db.session, current.settings(), now=clock.now())
    db.session.commit()
    click.echo("switch state recorded" if changed else "switch state unchanged")


@consent_cli.command("verify-receipt")
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of /.well-known/jwks.json (default: the keys this app publishes now).",
)
def verify_receipt(receipt: Path, jwks_file: Path | None) -> None:
    """Verify a consent receipt's signature and print its claims. Exit 1 if it fails.

    Works offline: give --jwks a saved JWK Set, or run it where the app's configuration
    and database are (the keys it publishes, retired ones included while published)."""
    try:
        jwks = (
            json.loads(jwks_file.read_text(encoding="utf-8"))
            if jwks_file is not None
            else receipts_wiring.published_keys(db.session, clock.now())
        )
        verified = receipts.verify(receipt.read_text(encoding="utf-8"), jwks)
    except (receipts.InvalidReceipt, ValueError, UnicodeDecodeError) as exc:
        click.echo(f"NOT VALID: {exc}", err=True)
        raise SystemExit(1) from exc
    click.echo(f"valid: signed by key {verified.header['kid']} ({verified.header['alg']})")
    click.echo(json.dumps(verified.claims, indent=2, ensure_ascii=False, sort_keys=True))


def register_commands(app: Flask) -> None:
    # The runtime switches' pause, resume and status join this group (authdemo/pilot/cli.py).
    from authdemo.pilot import cli as pilot_cli  # noqa: F401

    app.cli.add_command(passkeys_cli)
    app.cli.add_command(consent_cli)
