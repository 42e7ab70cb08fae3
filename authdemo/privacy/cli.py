"""Operator commands for data-subject requests and the retention schedule.

    flask users list [--search TEXT]
    flask dsar export USERNAME --out FILE --verified-by TEXT
    flask dsar delete USERNAME --yes --verified-by TEXT
    flask dsar erasures --out FILE
    flask dsar reapply-erasures [--from FILE] [--yes]
    flask retention purge

``--verified-by`` records how the requester's identity was checked before acting on the
request (GDPR Art 12(6)). The procedure, with its deadlines, is in docs/dsar.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authdemo import audit, clock, current, ways_in
from authdemo.audit import Event
from authdemo.errors import InvalidInput
from authdemo.extensions import Database, db
from authdemo.fallback import service as fallback
from authdemo.models import Base, Passkey, TotpCredential, User, UserSession
from authdemo.passkeys import ceremonies
from authdemo.pilot import complaints
from authdemo.privacy import residue, service
from authdemo.privacy.service import Person
from authdemo.receipts import service as receipts
from authdemo.receipts import wiring as receipts_wiring
from authdemo.sessions import service as sessions
from authdemo.usernames import normalise_username

users_cli = AppGroup("users", help="Accounts, for operators.")
dsar_cli = AppGroup("dsar", help="Data-subject requests: export and erasure (docs/dsar.md).")
retention_cli = AppGroup("retention", help="Retention schedule.")

VERIFIED_BY_MAX = 200
#: Rows deleted per statement by the purge, so a large backlog never holds the database's
#: write lock for long (the app keeps serving while cron purges).
PURGE_BATCH = 5000

verified_by_option = click.option(
    "--verified-by",
    required=True,
    metavar="TEXT",
    help="How the requester's identity was checked (GDPR Art 12(6)), e.g. 'confirmed by "
    "signed-in message, ticket 4711'. Describe the check; do not paste document numbers.",
)


def checked_verified_by(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise click.BadParameter(
            "say how the requester's identity was checked", param_hint="--verified-by"
        )
    if len(text) > VERIFIED_BY_MAX:
        raise click.BadParameter(
            f"at most {VERIFIED_BY_MAX} characters", param_hint="--verified-by"
        )
    return text


def find_person_or_fail(username: str) -> Person:
    try:
        name = normalise_username(username)
    except InvalidInput as exc:
        raise click.ClickException(f"{username!r} is not a valid username: {exc.detail}") from exc
    person = service.find_person(db.session, username=name)
    if person is None:
        raise click.ClickException(
            f"no account with the username {name!r}; `flask users list --search` helps find it"
        )
    return person


# --- flask users list -----------------------------------------------------------------


@users_cli.command("list")
@click.option("--search", default="", help="Only usernames containing this text.")
@verified_by_option
def users_list(search: str, verified_by: str) -> None:
    """List accounts: username, created, passkeys, password + code, live sessions."""
    now = clock.now()
    passkeys = (
        select(func.count()).where(Passkey.user_id == User.id).correlate(User).scalar_subquery()
    )
    live = (
        select(func.count())
        .where(UserSession.user_id == User.id, UserSession.absolute_expires_at > now)
        .correlate(User)
        .scalar_subquery()
    )
    code = select(TotpCredential.user_id).where(TotpCredential.user_id == User.id).exists()
    query = select(User.username, User.created_at, passkeys, code, live).order_by(User.username)
    if search:
        query = query.where(User.username.contains(search.casefold(), autoescape=True))
    rows = db.session.execute(query).all()
    audit.record(
        db.session,
        audit.Event.OPERATOR_USERS_LISTED,
        now=now,
        verified_by=checked_verified_by(verified_by),
        count=len(rows),
    )
    db.session.commit()
    if not rows:
        click.echo("no accounts" + (f" matching {search!r}" if search else ""))
        return
    width = max(len("username"), *(len(row[0]) for row in rows))
    click.echo(f"{'username':<{width}}  created           passkeys  password+code  sessions")
    for username, created_at, n_passkeys, has_code, n_sessions in rows:
        created = created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{username:<{width}}  {created}  {n_passkeys:>8}  "
            f"{'yes' if has_code else 'no':>13}  {n_sessions:>8}"
        )
    click.echo(f"{len(rows)} account(s)")


# --- flask dsar export / delete -------------------------------------------------------


@dsar_cli.command("export")
@click.argument("username")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (created with mode 600; refused if it exists unless --force).",
)
@verified_by_option
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def dsar_export(username: str, out: Path, verified_by: str, force: bool) -> None:
    """Write everything held about USERNAME to FILE (GDPR Art 15 and 20)."""
    verified = checked_verified_by(verified_by)
    person = find_person_or_fail(username)
    now = clock.now()
    click.echo(f"Exporting the account {person.username!r}:")
    context = service.export_context(
        current.settings(),
        requested_via="operator",
        consent_receipts=receipts.for_export(
            db.session, receipts_wiring.issuer(), user_id=person.id, now=now
        ),
    )
    document = service.build_export(
        db.session,
        person,
        now=now,
        context=context,
        progress=lambda line: click.echo(f"  {line}"),
    )
    data = service.dump_export(document)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(out, flags, 0o600)
    except FileExistsError as exc:
        raise click.ClickException(f"{out} exists; choose another file or add --force") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from exc
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    audit.record(
        db.session, Event.OPERATOR_EXPORT, now=now, user_id=person.id, verified_by=verified
    )
    db.session.commit()
    click.echo(f"Wrote {out} ({len(data):,} bytes). Audited as {Event.OPERATOR_EXPORT}.")
    click.echo("Send it to the requester over a channel you have verified; then delete it.")


@dsar_cli.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Confirm: the account cannot be restored.")
@verified_by_option
@click.option(
    "--vacuum-full",
    is_flag=True,
    help="PostgreSQL: VACUUM FULL instead of VACUUM, so the deleted rows' bytes leave the "
    "table files at once. Locks each table while it is rewritten.",
)
def dsar_delete(username: str, yes: bool, verified_by: str, vacuum_full: bool) -> None:
    """Erase USERNAME's account and everything about them (GDPR Art 17, CCPA 1798.105).

    Audit and consent events are kept, pseudonymised, until their retention ends."""
    verified = checked_verified_by(verified_by)
    person = find_person_or_fail(username)
    if not yes:
        raise click.UsageError(
            f"this permanently deletes the account {person.username!r} and everything "
            "about it; run again with --yes to confirm"
        )
    click.echo(f"Erasing the account {person.username!r} in one transaction:")
    erasure = _erase(db.session, person, via="operator", verified_by=verified, full=vacuum_full)
    click.echo(
        f"Done. Audited as {Event.ACCOUNT_DELETED} and {Event.OPERATOR_ERASURE} "
        f"under {erasure.pseudonym[:20]}…"
    )
    click.echo(
        "Tell the person they can remove the passkey for this site from their device: "
        "it no longer works."
    )


@dsar_cli.command("erasures")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (created with mode 600; refused if it exists).",
)
def dsar_erasures(out: Path) -> None:
    """Save the erasure records (pseudonyms and dates) before restoring a backup.

    The file holds pseudonymous personal data: keep it like a backup, and delete it once
    `flask dsar reapply-erasures --from FILE` has run on the restored database."""
    tombstones = service.erasure_tombstones(db.session)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise click.ClickException(f"{out} exists; choose another file") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from exc
    with os.fdopen(descriptor, "wb") as file:
        file.write(service.dump_tombstones(tombstones))
    click.echo(f"Wrote {len(tombstones)} erasure record(s) to {out}.")


@dsar_cli.command("reapply-erasures")
@click.option("--yes", is_flag=True, help="Erase them again without asking.")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Erasure records saved with `flask dsar erasures` before the restore; they are "
    "added to the restored audit trail first.",
)
def dsar_reapply(yes: bool, source: Path | None) -> None:
    """After restoring a backup: erase again the accounts whose erasure is on record."""
    if source is not None:
        try:
            tombstones = service.load_tombstones(source.read_bytes())
        except ValueError as exc:
            raise click.ClickException(f"{source}: {exc}") from exc
        added = service.restore_tombstones(db.session, tombstones)
        db.session.commit()
        click.echo(f"{added} erasure record(s) from {source} added to the audit trail.")
    pseudonyms = current.keyed_hash("pseudonym")
    people = service.erased_accounts_among(db.session, pseudonyms)
    if not people:
        click.echo("No account in the database has a recorded erasure.")
        return
    click.echo(f"{len(people)} account(s) here were erased after this backup was taken.")
    if not yes:
        raise click.UsageError("run again with --yes to erase them again")
    for person in people:
        _erase(db.session, person, via="restore", verified_by=None)
        click.echo("  erased again (pseudonym as recorded)")


def _erase(
    session: Session, person: Person, *, via: str, verified_by: str | None, full: bool = False
) -> service.Erasure:
    """Erase in one transaction, then drop what lives outside it (limiter keys, the old
    copies in SQLite's log or PostgreSQL's dead tuples) as the self-service route does,
    with ``residue.after_erasure``; here a failure is shown, not only logged."""
    erasure = service.erase_account(
        session,
        person,
        now=clock.now(),
        pseudonyms=current.keyed_hash("pseudonym"),
        via=via,
        verified_by=verified_by,
    )
    session.commit()
    for table, count in erasure.deleted.items():
        click.echo(f"  {table}: {count} deleted")
    for table, count in erasure.pseudonymised.items():
        click.echo(f"  {table}: {count} kept, pseudonymised")
    for line in residue.after_erasure(current_app, erasure, vacuum=True, full=full).lines():
        click.echo(f"  {line}")
    return erasure


# --- flask retention purge ------------------------------------------------------------


def _purge_no_way_in(days: int, now: datetime) -> int:
    """Erase the accounts left with no way in (authdemo.ways_in), each in its own
    transaction, exactly as a self-service erasure does (pseudonymised records kept)."""
    erased = 0
    idle_since = now - timedelta(days=days)
    for user_id in ways_in.no_way_in_accounts(db.session, now=now, idle_since=idle_since):
        person = service.find_person(db.session, user_id=user_id)
        # Checked again just before: a way in set up meanwhile keeps the account.
        if person is None or ways_in.methods_of(db.session, user_id).any_registered:
            continue
        _erase(db.session, person, via="retention:no-way-in", verified_by=None)
        erased += 1
    return erased


def _batched(purge: Callable[[Session, datetime, int], int], label: str, now: datetime) -> int:
    total = 0
    while True:
        deleted = purge(db.session, now, PURGE_BATCH)
        db.session.commit()
        total += deleted
        if deleted < PURGE_BATCH:
            return total
        click.echo(f"  {label}: {total} so far...")


@retention_cli.command("purge")
def retention_purge() -> None:
    """Delete what is past its retention period. Safe to run from cron, and again."""
    settings = current.settings()
    now = clock.now()
    counts = {
        "used_challenges": ceremonies.purge_expired(db.session, now=now),
        "user_sessions": sessions.purge_expired(db.session, now=now),
        "enrolments": fallback.purge_expired_enrolments(db.session, now=now),
    }
    db.session.commit()
    click.echo(f"expired used challenges deleted: {counts['used_challenges']}")
    click.echo(f"expired sessions deleted: {counts['user_sessions']}")
    click.echo(f"abandoned sign-ups and set-ups deleted: {counts['enrolments']}")
    counts["audit_events"] = _batched(
        lambda s, n, limit: service.purge_audit_events(
            s,
            now=n,
            days=settings.AUDIT_RETENTION_DAYS,
            tombstone_days=settings.BACKUP_RETENTION_DAYS,
            limit=limit,
        ),
        "audit events",
        now,
    )
    tombstone_days = max(settings.AUDIT_RETENTION_DAYS, settings.BACKUP_RETENTION_DAYS)
    click.echo(
        f"audit events older than {settings.AUDIT_RETENTION_DAYS} days deleted "
        f"(erasure records are kept {tombstone_days} days, for backups): "
        f"{counts['audit_events']}"
    )
    counts["consent_events"] = _batched(
        lambda s, n, limit: service.purge_consent_events(
            s,
            now=n,
            days=settings.CONSENT_RETENTION_DAYS,
            reask_days=settings.CONSENT_REASK_DAYS,
            limit=limit,
        ),
        "consent events",
        now,
    )
    click.echo(
        f"consent events older than {settings.CONSENT_RETENTION_DAYS} days deleted "
        f"(decisions still in force are kept), and declines older than "
        f"{settings.CONSENT_REASK_DAYS} days: {counts['consent_events']}"
    )
    counts["complaints"] = _batched(
        lambda s, n, limit: complaints.purge_expired(
            s, now=n, days=settings.COMPLAINT_RETENTION_DAYS, limit=limit
        ),
        "problem reports",
        now,
    )
    click.echo(
        f"problem reports older than {settings.COMPLAINT_RETENTION_DAYS} days deleted: "
        f"{counts['complaints']}"
    )
    counts["no_way_in_accounts"] = _purge_no_way_in(settings.NO_WAY_IN_ERASE_DAYS, now)
    click.echo(
        f"accounts with no way in and no activity for {settings.NO_WAY_IN_ERASE_DAYS} days "
        f"erased: {counts['no_way_in_accounts']}"
    )
    # Every table, not only those purged here: this also reaches the rows that
    # self-service erasures deleted since the last run (no VACUUM runs in a request).
    audit.record(
        db.session, audit.Event.RETENTION_PURGED, now=clock.now(), count=sum(counts.values())
    )
    db.session.commit()
    reclaimed = residue.reclaim(Database.engine_for(current_app), Base.metadata.tables)
    click.echo(reclaimed.action + ("" if reclaimed.complete else " (incomplete, see log)"))


def register_commands(app: Flask) -> None:
    """Add this package's commands to ``flask``."""
    app.cli.add_command(users_cli)
    app.cli.add_command(dsar_cli)
    app.cli.add_command(retention_cli)
