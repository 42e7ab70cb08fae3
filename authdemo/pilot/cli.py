"""Operator commands of the rollout (docs/rollout.md):

    flask passkeys status
    flask passkeys pause  enrolment|sign-in --reason TEXT
    flask passkeys resume enrolment|sign-in --reason TEXT
    flask guardrails check
    flask pilot report [--since DATE]

Each change is one use case (authdemo.pilot.switches.change), audited with who and why,
and reaches every worker within ``PASSKEY_SWITCH_CACHE_SECONDS``. The commands join the
``passkeys`` group when authdemo.consent.cli registers it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from authdemo import clock, current
from authdemo.consent.cli import passkeys_cli
from authdemo.extensions import db
from authdemo.pilot import guardrails, report, switches
from authdemo.pilot import web as pilot_web
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


# --- flask guardrails check -------------------------------------------------------------

guardrails_cli = AppGroup("guardrails", help="Passkey pilot guardrails (docs/rollout.md).")


@guardrails_cli.command("check")
def guardrails_check() -> None:
    """Judge every guardrail over its window; on a breach pause passkey enrolment (never
    sign-in, never a resume). Safe to run from cron or a timer, and again."""
    settings = current.settings()
    outcome = guardrails.check(db.session, settings, now=clock.now())
    db.session.commit()
    switches.forget(current_app.extensions)
    click.echo(f"window: since {outcome.window_start:%Y-%m-%d %H:%M} UTC")
    for reading in outcome.readings:
        click.echo(reading.line())
    if outcome.paused_by is not None:
        click.echo(
            f"passkey enrolment paused by the {outcome.paused_by} guardrail; passkey sign-in "
            "continues. A person resumes it: flask passkeys resume enrolment --reason TEXT"
        )
    elif outcome.breached and outcome.already_off:
        click.echo("breached, and passkey enrolment is already off: nothing changed")
    else:
        click.echo("no guardrail breached: nothing changed")


# --- flask pilot report -----------------------------------------------------------------

pilot_cli = AppGroup("pilot", help="The passkey pilot (docs/rollout.md).")


@pilot_cli.command("report")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Start (UTC) as YYYY-MM-DD or YYYY-MM-DDTHH:MM; default: all that is kept "
    "(AUDIT_RETENTION_DAYS).",
)
def pilot_report(since: datetime | None) -> None:
    """Sign-in success per method and cohort with 95 % intervals, the gap between the
    methods, lockouts, withdrawals, problem reports, and passkeys by provider."""
    settings = current.settings()
    now = clock.now()
    start = (
        since.replace(tzinfo=UTC)
        if since is not None
        else now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    )
    if start > now:
        raise click.BadParameter("is in the future", param_hint="--since")
    figures = report.gather(
        db.session,
        since=start,
        until=now,
        place=lambda user_id: str(pilot_web.cohort_of_account(user_id)),
    )
    click.echo(f"pilot: {settings.PASSKEY_PILOT_PERCENT} % of accounts and sign-ups")
    for line in report.lines(figures):
        click.echo(line)


def register_commands(app: Flask) -> None:
    app.cli.add_command(guardrails_cli)
    app.cli.add_command(pilot_cli)
