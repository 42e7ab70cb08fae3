"""``flask keys rotate``: re-encrypt secrets at rest under the current data key."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from authdemo import clock
from authdemo.extensions import db
from authdemo.fallback import service
from authdemo.fallback import wiring as fallback_wiring
from authdemo.models import User
from authdemo.privacy.cli import checked_verified_by, find_person_or_fail, verified_by_option

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
    changed = service.reencrypt_totp_secrets(db.session, fallback_wiring.fallback())
    db.session.commit()
    click.echo(f"TOTP secrets re-encrypted under the current key: {changed}")
    click.echo(
        "keep AUTHDEMO_DATA_KEY_PREVIOUS set: recovery codes and erasure pseudonyms made "
        "under the old key still need it (see `flask keys rotate --help`)"
    )


recovery_cli = AppGroup("recovery", help="Account recovery by the operator.")


@recovery_cli.command("issue-codes")
@click.argument("username")
@verified_by_option
@click.option("--yes", is_flag=True, help="Confirm: this replaces the person's recovery codes.")
def issue_codes(username: str, verified_by: str, yes: bool) -> None:
    """Give a person who lost every way in a fresh set of recovery codes.

    Only after the organisation's own identity check, which --verified-by records (GDPR
    Art 12(6)). Nothing else bypasses passkeys, passwords or codes. The old codes stop
    working, every session of the person ends, and the person sees a security notice the
    next time they sign in. Hand the codes over through the channel the check used.
    """
    if not yes:
        raise click.UsageError("add --yes to replace the person's recovery codes")
    checked = checked_verified_by(verified_by)
    person = find_person_or_fail(username)
    now = clock.now()
    user = db.session.get(User, person.id)
    assert user is not None
    done = service.operator_recovery(
        db.session, fallback_wiring.fallback(), user=user, verified_by=checked, now=now
    )
    db.session.commit()
    click.echo(
        f"new recovery codes for {person.username} "
        f"(shown once; sessions ended: {done.sessions_ended}):"
    )
    for code in done.codes:
        click.echo(f"  {code}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(recovery_cli)
