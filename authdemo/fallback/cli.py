"""``flask keys rotate``: re-encrypt secrets at rest under the current data key."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from authdemo import current
from authdemo.extensions import db
from authdemo.fallback import service

keys_cli = AppGroup("keys", help="Data-key rotation.")


@keys_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt every TOTP secret with AUTHDEMO_DATA_KEY.

    Procedure: set the new key as AUTHDEMO_DATA_KEY and the old one in
    AUTHDEMO_DATA_KEY_PREVIOUS, deploy, run this command.

    Keyed hashes cannot be re-keyed without their input: recovery codes issued before the
    rotation, and the pseudonyms of accounts erased before it, verify only while the old
    key stays in AUTHDEMO_DATA_KEY_PREVIOUS. Keep it there until people have made new
    recovery codes (or used theirs) and backups older than the rotation have expired.
    """
    changed = service.reencrypt_totp_secrets(db.session, current.fallback())
    db.session.commit()
    click.echo(f"TOTP secrets re-encrypted under the current key: {changed}")
    click.echo(
        "keep AUTHDEMO_DATA_KEY_PREVIOUS set: recovery codes and erasure pseudonyms made "
        "under the old key still need it (see `flask keys rotate --help`)"
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(keys_cli)
