"""Data-subject rights: what is held about a person, the export, erasure and retention.

One definition of "the rows about a person" (:data:`ROWS_ABOUT`) serves the dashboard,
the export and erasure, so what a person can take away is exactly what deletion removes.
Which columns the export includes comes from the data-protection marks on the models
(``authdemo.models.base.personal``); a test walks the metadata so that a new table or
column cannot be left out of either.

Every function takes the database session, ``now`` and its collaborators explicitly and
never commits: the route or the CLI command commits once, which makes an erasure a single
transaction that either happens completely or not at all.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import TypeDecorator

from authdemo import audit, base64url
from authdemo.audit import Event
from authdemo.compliance import privacy_notice
from authdemo.config import Settings
from authdemo.consent.service import Action
from authdemo.errors import AuthDemoError
from authdemo.models import AuditEvent, Base, ConsentEvent, User
from authdemo.passkeys.providers import provider_name
from authdemo.secrets_at_rest import KeyedHash

EXPORT_FORMAT = "authdemo.personal-data-export"
#: Bump on any change a reader of an older file would trip over; the schema's ``$id``
#: carries the same number (authdemo/data/export.schema.json).
#: Version 2: no ``passkey_requests_in_progress`` (ceremonies are no longer stored, 0019).
EXPORT_VERSION = 2
SCHEMA_ID = "https://authdemo.example/schemas/personal-data-export/v2.json"

#: Prefix of a pseudonymised user reference in the audit trail and the consent ledger.
ERASED_PREFIX = "erased:"

#: Where each table's rows about a person go in the export. Every table is listed, so a
#: new table fails the metadata test until someone decides what it holds about people.
TABLE_SECTIONS: Mapping[str, str] = {
    "users": "account",
    "passkeys": "passkeys",
    "password_credentials": "password",
    "totp_credentials": "authenticator_app",
    "recovery_codes": "unused_recovery_codes",
    "user_sessions": "sessions",
    "enrolments": "set_ups_in_progress",
    "consent_events": "consent_events",
    "audit_events": "audit_events",
    "complaints": "problem_reports",
}
#: Tables that hold nothing about any person (every column marked not personal; a test
#: checks): the deployment's runtime switches, the digests of used challenges (0019), and
#: the public keys that signed consent receipts (0027).
NOT_ABOUT_PEOPLE = frozenset({"runtime_switches", "used_challenges", "consent_receipt_keys"})
#: Tables with at most one row per person: exported as an object (or null), not a list.
SINGLE_ROW = frozenset({"users", "password_credentials", "totp_credentials"})

ALGORITHM_NAMES = {-7: "ES256", -8: "EdDSA", -257: "RS256"}
TOTP_STEP_SECONDS = 30


class UnknownAccount(AuthDemoError):
    status = 404
    slug = "unknown-account"
    title = lazy_gettext("There is no such account.")


@dataclass(frozen=True, slots=True)
class Person:
    """The identifiers that find every row about someone."""

    id: str
    username: str
    user_handle: bytes


def find_person(
    session: Session, *, user_id: str | None = None, username: str | None = None
) -> Person | None:
    """Look a person up by account id or by (normalised) username."""
    query = select(User.id, User.username, User.user_handle)
    if user_id is not None:
        query = query.where(User.id == user_id)
    elif username is not None:
        query = query.where(User.username == username)
    else:
        raise ValueError("give user_id or username")
    row = session.execute(query).one_or_none()
    return None if row is None else Person(row.id, row.username, row.user_handle)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _by_account(table: str, column: str = "user_id") -> Callable[[Person], ColumnElement[bool]]:
    return lambda person: _table(table).c[column] == person.id


def _pending_sign_up(table: str, username_column: str) -> Callable[[Person], ColumnElement[bool]]:
    """Rows of the account, and unfinished sign-ups that reserved the same username (a
    second tab, an abandoned attempt): they hold the username too."""

    def about(person: Person) -> ColumnElement[bool]:
        t = _table(table)
        return or_(t.c.user_id == person.id, t.c[username_column] == person.username)

    return about


def _nobody(person: Person) -> ColumnElement[bool]:
    return false()


#: Which rows of each table are about a person. Used by the dashboard, the export and
#: erasure alike.
ROWS_ABOUT: Mapping[str, Callable[[Person], ColumnElement[bool]]] = {
    "users": _by_account("users", "id"),
    "passkeys": _by_account("passkeys"),
    "password_credentials": _by_account("password_credentials"),
    "totp_credentials": _by_account("totp_credentials"),
    "recovery_codes": _by_account("recovery_codes"),
    "user_sessions": _by_account("user_sessions"),
    "enrolments": _pending_sign_up("enrolments", "username"),
    "consent_events": _by_account("consent_events", "user_ref"),
    "audit_events": _by_account("audit_events", "user_ref"),
    # Reports sent signed in; one sent signed out is linked to no account (models/pilot.py).
    "complaints": _by_account("complaints"),
    # About the deployment, not about anyone (models/pilot.py).
    "runtime_switches": _nobody,
    # Digests of random challenges, linked to nobody (models/ceremony.py).
    "used_challenges": _nobody,
    # Public keys of the service (models/consent.py).
    "consent_receipt_keys": _nobody,
}


def exported_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` the export includes, according to their marks."""
    return [c for c in table.columns if c.info.get("personal") and c.info.get("export")]


def withheld_columns() -> list[dict[str, str]]:
    """Personal columns the export leaves out, each with the reason from its mark."""
    return [
        {"table": table.name, "column": column.name, "reason": column.info["reason"]}
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("personal") and not column.info.get("export")
    ]


def pseudonymised_columns() -> list[Column[Any]]:
    """References that erasure replaces with a keyed hash instead of deleting the row."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("erasure") == "pseudonymise"
    ]


def pseudonym_for(pseudonyms: KeyedHash, user_id: str) -> str:
    """``erased:`` + HMAC-SHA256 of the account id under a server-side key (GDPR Art 4(5)):
    the events of one erased account still belong together, and the id it was made from
    is gone. The result is pseudonymous, not anonymous (GDPR Recital 26): whoever holds
    the key and the account id (the operator, from a backup taken before the erasure)
    can recompute it, so the kept rows remain personal data until their retention ends."""
    return ERASED_PREFIX + pseudonyms.digest(user_id.encode()).hex()


# --- export (GDPR Art 15 and 20) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What the document says about the service and how the export was asked for."""

    service_name: str
    rp_id: str
    origin: str
    requested_via: str  # "self-service" or "operator"
    retention: Mapping[str, int]
    current_session_id: int | None = None
    #: One signed receipt per consent decision ({"receipt_id", "consent_event_id", "jws"}),
    #: issued by the caller's use case (authdemo/receipts/service.py): regenerated from the
    #: ledger for the export, never stored.
    consent_receipts: tuple[Mapping[str, Any], ...] = ()
    #: GDPR Art 15(1)(a) to (h) and 15(2): purposes, categories, recipients, retention,
    #: rights, complaint, source, automated decisions (the privacy notice's facts).
    about: Mapping[str, Any] = field(default_factory=dict)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _json_converter(column: Column[Any]) -> Callable[[Any], object] | None:
    """How a column's values become JSON: bytes as base64url, times as ISO 8601."""
    # A TypeDecorator (UTCDateTime) reports ``object``; its underlying type knows better.
    sql_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    try:
        python_type = sql_type.python_type
    except NotImplementedError:
        return None
    if issubclass(python_type, bytes):
        return base64url.encode
    if issubclass(python_type, datetime):
        return _iso
    return None


def _records(session: Session, table: Table, person: Person) -> Iterator[dict[str, Any]]:
    columns = exported_columns(table)
    order = list(table.primary_key.columns)
    query = select(*columns).where(ROWS_ABOUT[table.name](person)).order_by(*order)
    names = [c.name for c in columns]
    # Convert only the columns that need it: an export can hold 100k audit events.
    converters = [(c.name, f) for c in columns if (f := _json_converter(c)) is not None]
    for row in session.execute(query):
        record = dict(zip(names, row, strict=True))
        for name, convert in converters:
            value = record[name]
            if value is not None:
                record[name] = convert(value)
        yield record


def _add_passkey_facts(record: dict[str, Any]) -> None:
    record["algorithm_name"] = ALGORITHM_NAMES.get(record["algorithm"])
    record["provider"] = provider_name(record["aaguid"])


def _add_code_facts(record: dict[str, Any]) -> None:
    step = record["last_used_step"]
    moment = None if step is None else datetime.fromtimestamp(step * TOTP_STEP_SECONDS, UTC)
    record["last_used_at"] = None if moment is None else moment.isoformat()


def build_export(
    session: Session,
    person: Person,
    *,
    now: datetime,
    context: ExportContext,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Everything held about ``person``, as the versioned document the schema describes.

    Secrets that protect the account rather than describe the person are left out, each
    with the reason its column mark gives (``not_included``).
    """
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema": SCHEMA_ID,
        "generated_at": now.isoformat(),
        "requested_via": context.requested_via,
        "service": {
            "name": context.service_name,
            "rp_id": context.rp_id,
            "origin": context.origin,
        },
    }
    for name, section in TABLE_SECTIONS.items():
        records = list(_records(session, _table(name), person))
        for record in records:
            if name == "passkeys":
                _add_passkey_facts(record)
            elif name == "totp_credentials":
                _add_code_facts(record)
            elif name == "user_sessions":
                record["current"] = record["id"] == context.current_session_id
        if name in SINGLE_ROW:
            document[section] = records[0] if records else None
        else:
            document[section] = records
        if progress is not None:
            progress(f"{section}: {len(records)}")
    document["consent_receipts"] = [dict(r) for r in context.consent_receipts]
    document["summary"] = {
        "passkeys": len(document["passkeys"]),
        "password_and_code": document["authenticator_app"] is not None,
        "recovery_codes_left": len(document["unused_recovery_codes"]),
        "sessions": len(document["sessions"]),
        "consent_events": len(document["consent_events"]),
        "audit_events": len(document["audit_events"]),
        "problem_reports": len(document["problem_reports"]),
        "consent_receipts": len(document["consent_receipts"]),
    }
    document["not_included"] = withheld_columns()
    document["retention_days"] = dict(context.retention)
    document["about_this_processing"] = dict(context.about)
    return document


# --- erasure (GDPR Art 17, CCPA 1798.105) ---------------------------------------------


def export(
    session: Session, person: Person, *, now: datetime, context: ExportContext, via: str
) -> dict[str, Any]:
    """The person's own export (GDPR Art 15 and 20), and its audit row, in one use case."""
    document = build_export(session, person, now=now, context=context)
    audit.record(session, Event.DATA_EXPORTED, now=now, user_id=person.id, via=via)
    return document


@dataclass(frozen=True, slots=True)
class Erasure:
    """What erasure did, and what the caller needs after the commit: the username and the
    account id to drop the account's limiter keys, the user handle to tell the browser to
    forget its passkeys. None of them is stored anywhere once the caller is done."""

    pseudonym: str
    username: str
    user_handle: bytes
    user_id: str
    #: Rows deleted, and rows kept with the reference pseudonymised, per table.
    deleted: dict[str, int] = field(default_factory=dict)
    pseudonymised: dict[str, int] = field(default_factory=dict)

    @property
    def tables(self) -> list[str]:
        return [t for t, n in {**self.deleted, **self.pseudonymised}.items() if n]


def erase_account(
    session: Session,
    person: Person,
    *,
    now: datetime,
    pseudonyms: KeyedHash,
    via: str,
    verified_by: str | None = None,
) -> Erasure:
    """Delete the person and every row about them, in the caller's transaction.

    Audit and consent events are kept, pseudonymised, for their own retention period: to
    demonstrate past consent (Art 7(1)) and the erasure itself (Art 5(2)). Deleting the
    session rows ends every session at once. If anything fails, the caller rolls back
    and the account is untouched.
    """
    ref = pseudonym_for(pseudonyms, person.id)
    pseudonymised: dict[str, int] = {}
    for column in pseudonymised_columns():
        result = session.execute(
            update(column.table).where(column == person.id).values({column.name: ref})
        )
        pseudonymised[column.table.name] = int(getattr(result, "rowcount", 0))
    deleted: dict[str, int] = {}
    # Children before the account row, whatever the foreign keys' ON DELETE says.
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in pseudonymised:
            result = session.execute(delete(table).where(ROWS_ABOUT[table.name](person)))
            deleted[table.name] = int(getattr(result, "rowcount", 0))
    if deleted.get("users") != 1:
        raise UnknownAccount()
    audit.record(session, Event.ACCOUNT_DELETED, now=now, user_id=ref, via=via)
    if verified_by is not None:
        audit.record(session, Event.OPERATOR_ERASURE, now=now, user_id=ref, verified_by=verified_by)
    return Erasure(ref, person.username, person.user_handle, person.id, deleted, pseudonymised)


def erased_accounts_among(session: Session, pseudonyms: KeyedHash) -> list[Person]:
    """People in the database whose erasure is on record: after a backup is restored,
    erasures made since the backup must be made again. The pseudonym of every existing
    account (under every configured key) is compared with the recorded erasures."""
    erased = set(
        session.scalars(
            select(AuditEvent.user_ref).where(AuditEvent.event == str(Event.ACCOUNT_DELETED))
        )
    )
    people = []
    for row in session.execute(select(User.id, User.username, User.user_handle)):
        candidates = {ERASED_PREFIX + d.hex() for d in pseudonyms.candidates(row.id.encode())}
        if candidates & erased:
            people.append(Person(row.id, row.username, row.user_handle))
    return people


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The record of one erasure: the erased account's pseudonym and when it happened."""

    pseudonym: str
    erased_at: datetime


def erasure_tombstones(session: Session) -> list[Tombstone]:
    rows = session.execute(
        select(AuditEvent.user_ref, AuditEvent.occurred_at)
        .where(AuditEvent.event == str(Event.ACCOUNT_DELETED), AuditEvent.user_ref.is_not(None))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return [Tombstone(str(row.user_ref), row.occurred_at) for row in rows]


def dump_tombstones(tombstones: list[Tombstone]) -> bytes:
    items = [{"pseudonym": t.pseudonym, "erased_at": t.erased_at.isoformat()} for t in tombstones]
    return json.dumps({"erasures": items}, indent=2).encode() + b"\n"


def load_tombstones(data: bytes) -> list[Tombstone]:
    """Parse a file written by ``dump_tombstones``; ValueError says what is wrong."""
    try:
        items = json.loads(data)["erasures"]
        tombstones = [
            Tombstone(str(item["pseudonym"]), datetime.fromisoformat(item["erased_at"]))
            for item in items
        ]
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError("not a file of erasure records") from exc
    for t in tombstones:
        if not t.pseudonym.startswith(ERASED_PREFIX):
            raise ValueError(f"not a pseudonym: {t.pseudonym[:12]}...")
    return tombstones


def restore_tombstones(session: Session, tombstones: list[Tombstone]) -> int:
    """Add the erasure records a restored audit trail lacks, with their original dates
    (so their retention runs from the erasure). Flushes only; returns how many."""
    known = {(t.pseudonym, t.erased_at) for t in erasure_tombstones(session)}
    added = 0
    for t in tombstones:
        if (t.pseudonym, t.erased_at) not in known:
            audit.record(
                session, Event.ACCOUNT_DELETED, now=t.erased_at, user_id=t.pseudonym, via="restore"
            )
            known.add((t.pseudonym, t.erased_at))
            added += 1
    return added


# --- retention (GDPR Art 5(1)(e)) -----------------------------------------------------


def purge_audit_events(
    session: Session, *, now: datetime, days: int, tombstone_days: int, limit: int
) -> int:
    """Delete up to ``limit`` audit events older than the retention period (``days``).

    Erasure records (``account.deleted``, a pseudonym and nothing else) are tombstones: a
    backup up to ``tombstone_days`` old (BACKUP_RETENTION_DAYS) may be restored and bring
    back an account erased since, and only the tombstone lets ``reapply_erasures`` find
    it. They are kept for the longer of the two periods."""
    cutoff = now - timedelta(days=days)
    tombstone_cutoff = now - timedelta(days=max(days, tombstone_days))
    is_tombstone = AuditEvent.event == str(Event.ACCOUNT_DELETED)
    batch = (
        select(AuditEvent.id)
        .where(
            AuditEvent.occurred_at < cutoff,
            or_(~is_tombstone, AuditEvent.occurred_at < tombstone_cutoff),
        )
        .limit(limit)
    )
    result = session.execute(delete(AuditEvent).where(AuditEvent.id.in_(batch.scalar_subquery())))
    return int(getattr(result, "rowcount", 0))


def purge_consent_events(
    session: Session, *, now: datetime, days: int, reask_days: int, limit: int
) -> int:
    """Delete up to ``limit`` consent events older than the retention period (``days``),
    except the decision still in force for a live account: while passkeys are used on the
    strength of a consent, that consent must stay demonstrable (Art 7(1)), however old
    it is.

    A "No thanks" has one purpose, not asking again within the re-ask period
    (``reask_days``): it demonstrates no consent, so it goes when that period ends, in
    force or not (Art 5(1)(e)). Afterwards the person may be invited again."""
    cutoff = now - timedelta(days=days)
    spent_decline = and_(
        ConsentEvent.action == str(Action.DECLINED),
        ConsentEvent.occurred_at < now - timedelta(days=reask_days),
    )
    newer = aliased(ConsentEvent)
    superseded = exists().where(
        newer.user_ref == ConsentEvent.user_ref,
        newer.purpose == ConsentEvent.purpose,
        newer.id > ConsentEvent.id,
    )
    account_gone = ConsentEvent.user_ref.not_in(select(User.id))
    batch = (
        select(ConsentEvent.id)
        .where(
            or_(
                and_(ConsentEvent.occurred_at < cutoff, or_(account_gone, superseded)),
                spent_decline,
            )
        )
        .limit(limit)
    )
    result = session.execute(
        delete(ConsentEvent).where(ConsentEvent.id.in_(batch.scalar_subquery()))
    )
    return int(getattr(result, "rowcount", 0))


def count_about(session: Session, person: Person, table: str) -> int:
    query = select(func.count()).select_from(_table(table)).where(ROWS_ABOUT[table](person))
    return int(session.execute(query).scalar_one())


def export_context(
    settings: Settings,
    *,
    requested_via: str,
    current_session_id: int | None = None,
    consent_receipts: Sequence[Mapping[str, Any]] = (),
) -> ExportContext:
    return ExportContext(
        service_name=settings.RP_NAME,
        rp_id=settings.RP_ID,
        origin=settings.ORIGIN,
        requested_via=requested_via,
        retention={
            "audit_events": settings.AUDIT_RETENTION_DAYS,
            "consent_events": settings.CONSENT_RETENTION_DAYS,
            "consent_declines": settings.CONSENT_REASK_DAYS,
            "problem_reports": settings.COMPLAINT_RETENTION_DAYS,
        },
        current_session_id=current_session_id,
        consent_receipts=tuple(consent_receipts),
        about=privacy_notice.supplementary_information(
            settings, rights_url=settings.ORIGIN + "/privacy"
        ),
    )


def dump_export(document: Mapping[str, Any]) -> bytes:
    """The file a person downloads: UTF-8 JSON. Compact, because CPython's fast encoder
    does not indent; any JSON viewer lays it out."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


# --- the typed confirmation before self-service deletion -------------------------------


def confirmation_token(
    key: KeyedHash, *, user_id: str, session_id: int, authenticated_at: datetime, issued_at: int
) -> str:
    """A token for the delete form, bound to this person, this session and this step-up.

    A form from an earlier step-up, another session or another account, or one older than
    the step-up window, is refused as stale (a replayed or forged delete request)."""
    message = f"{user_id}|{session_id}|{authenticated_at.isoformat()}|{issued_at}".encode()
    return f"{issued_at}.{key.digest(message).hex()}"


def confirmation_is_fresh(
    key: KeyedHash,
    token: object,
    *,
    user_id: str,
    session_id: int,
    authenticated_at: datetime,
    now: datetime,
    max_age: timedelta,
) -> bool:
    if not isinstance(token, str) or len(token) > 128 or "." not in token:
        return False
    issued, _, mac = token.partition(".")
    if not issued.isdigit():
        return False
    issued_at = int(issued)
    age = now.timestamp() - issued_at
    if age < 0 or age > max_age.total_seconds():
        return False
    message = f"{user_id}|{session_id}|{authenticated_at.isoformat()}|{issued_at}".encode()
    return any(hmac.compare_digest(mac, d.hex()) for d in key.candidates(message))
