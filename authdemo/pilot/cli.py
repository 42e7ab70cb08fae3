"""Operator commands of the rollout (docs/rollout.md):

    flask passkeys status
    flask passkeys pause  enrolment|sign-in --reason TEXT
    flask passkeys resume enrolment|sign-in --reason TEXT

Each change is one use case (authdemo.pilot.switches.change), audited with who and why,
and reaches every worker within ``PASSKEY_SWITCH_CACHE_SECONDS``. The commands join the
``passkeys`` group when authdemo.consent.cli registers it.
"""

from __future__ import annotations

import click
from flask import current_app

from authdemo import clock, current
from authdemo.consent.cli import passkeys_cli
from authdemo.extensions import db
from authdemo.pilot import switches
from authdemo.pilot.switches import Switch

WHAT = {"enrolment": Switch.ENROLMENT, "sign-in": Switch.SIGNIN}


def _change(what: str, *, enabled: bool, reason: str) -> None:
    settings = current.settings()
    try:
        changed = switches.change(
            db.session, WHAT[what], enabled=enabled, reason=reason, by="operator", now=clock.now()
        )
    except switches.BadReason as error:
        raise click.UsageError(str(error)) from error
    db.session.commit()
    switches.forget(current_app.extensions)
    verb = "resumed" if enabled else "paused"
    click.echo(f"passkey {what} {verb}" if changed else f"passkey {what} was already {verb}")
    state = switches.describe(settings, switches.read(db.session))
    click.echo(f"now: enrolment {state['enrolment']}; sign-in {state['sign-in']}")
    click.echo(
        f"every worker follows within {settings.PASSKEY_SWITCH_CACHE_SECONDS} s "
        "(AUTHDEMO_PASSKEY_SWITCH_CACHE_SECONDS)"
    )


_what = click.argument("what", type=click.Choice(sorted(WHAT)))
_reason = click.option("--reason", required=True, help="Why (kept in the audit trail).")


@passkeys_cli.command("pause")
@_what
@_reason
def pause(what: str, reason: str) -> None:
    """Switch passkey enrolment or sign-in off while the app runs."""
    _change(what, enabled=False, reason=reason)


@passkeys_cli.command("resume")
@_what
@_reason
def resume(what: str, reason: str) -> None:
    """Switch passkey enrolment or sign-in back on (a person's decision, never automatic)."""
    _change(what, enabled=True, reason=reason)


@passkeys_cli.command("status")
def status() -> None:
    """Show the passkey switches as every worker will see them."""
    state = switches.describe(current.settings(), switches.read(db.session))
    click.echo(f"enrolment: {state['enrolment']}")
    click.echo(f"sign-in: {state['sign-in']}")
    click.echo(f"pilot: {current.settings().PASSKEY_PILOT_PERCENT} % of accounts and sign-ups")
