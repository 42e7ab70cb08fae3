"""Consent to passkey sign-in: the ledger, the person's current state, and the rules
for asking (GDPR Art 7; EDPB Guidelines 05/2020 on consent).

- The ledger is append-only: each decision is a new row (who, purpose, notice version
  and language, SHA-256 of the exact text shown and of the deployment facts shown beside
  it, granted / declined / withdrawn, when, page and control).
  No IP address or user agent. Rows are never updated (erasure pseudonymises ``user_ref``).
- A decision is accepted only against a notice we published, in the language the page
  showed it in, with the hash of that exact text, so a forged or stale post cannot put
  words in a person's mouth (docs/decisions/0029-notices-per-language.md).
- Withdrawing deletes the person's passkeys at once: without them there is nothing left
  to process under the consent (Art 7(3): as easy to withdraw as to give).
- Nobody is nagged: after "No thanks" (or a withdrawal) the offer is not repeated for
  ``CONSENT_REASK_DAYS``. A *material* new notice asks people who agreed to an older one
  again, at their next sign-in, without ever blocking password + code.

Functions take the session and ``now`` explicitly and never commit.
"""

from __future__ import annotations

import enum
import hmac
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.orm import Session

from authdemo import audit, ways_in
from authdemo.audit import Event
from authdemo.consent.notices import DEFAULT_LANGUAGE, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.errors import AuthDemoError
from authdemo.models import ConsentEvent, Passkey
from authdemo.sessions import service as sessions

_HEX64 = re.compile(r"[0-9a-f]{64}")
METHOD_MAX = 64  # consent_events.method


class Action(enum.StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


_AUDIT_EVENT = {
    Action.GRANTED: Event.CONSENT_GRANTED,
    Action.DECLINED: Event.CONSENT_DECLINED,
    Action.WITHDRAWN: Event.CONSENT_WITHDRAWN,
}


# --- errors (mapped to problem+json / a friendly page by authdemo.errors) ------------


class ConsentNotGiven(AuthDemoError):
    slug = "consent-required"
    title = lazy_gettext(
        "Please tick the box to agree to passkey sign-in first, or use the alternative."
    )


class UnknownNotice(AuthDemoError):
    slug = "unknown-notice"
    title = lazy_gettext("We don't recognise the notice this page showed. Please reload the page.")


class NoticeMismatch(AuthDemoError):
    slug = "notice-mismatch"
    title = lazy_gettext("The notice this page showed doesn't match ours. Please reload the page.")


class NoticeChanged(AuthDemoError):
    status = 409
    slug = "notice-changed"
    title = lazy_gettext(
        "The notice has changed since this page was loaded. Please reload and read it."
    )


class AlreadyRecorded(AuthDemoError):
    """A replayed or repeated post: the decision is already the person's current one."""

    status = 409
    slug = "consent-already-recorded"
    title = lazy_gettext("That choice is already recorded. Nothing was changed.")


class UnexpectedField(AuthDemoError):
    slug = "unexpected-field"
    title = lazy_gettext("The request had information we don't accept here. Nothing was changed.")


# --- what the page showed ------------------------------------------------------------


def shown_notice(
    book: NoticeBook,
    *,
    version: object,
    sha256: object,
    language: object = DEFAULT_LANGUAGE,
    offered: Collection[str] | None = None,
    purpose: str = PASSKEY_SIGNIN,
    current_only: bool = True,
) -> Notice:
    """The notice text a page says it showed, checked against what we published.

    The page names the version, the language and the SHA-256 of the text it rendered,
    so the record is of the words on that page even if the person switched language in
    another tab since. Unknown version, a language the version was not published in (or
    one not in ``offered``, the languages this deployment offers: no page can have been
    rendered in it), or a hash that is not the one of that exact text: refused (a forged
    post). A known but superseded version: refused with 409 when the decision needs the
    current text (giving consent); accepted for withdrawal, which must work whatever page
    the person had open."""
    if not isinstance(version, str) or not isinstance(sha256, str):
        raise UnknownNotice()
    if not isinstance(language, str):
        raise UnknownNotice()
    if offered is not None and language != DEFAULT_LANGUAGE and language not in offered:
        raise UnknownNotice()
    notice = book.get(purpose, version, language)
    if notice is None:
        raise UnknownNotice()
    if not _HEX64.fullmatch(sha256) or not hmac.compare_digest(sha256, notice.sha256):
        raise NoticeMismatch()
    if current_only and notice.version != book.current(purpose).version:
        raise NoticeChanged()
    return notice


def reject_unexpected(names: Iterable[str], allowed: frozenset[str]) -> None:
    """Consent is always about the signed-in person (or the sign-up in this browser):
    a post naming anyone, or carrying anything else, is refused rather than ignored."""
    if set(names) - allowed:
        raise UnexpectedField()


# --- the ledger ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    action: Action
    notice_version: str
    occurred_at: datetime
    method: str
    #: The language of the text shown, and that text's SHA-256.
    notice_language: str = DEFAULT_LANGUAGE
    notice_sha256: str = ""


_ENTRY_COLUMNS = (
    ConsentEvent.action,
    ConsentEvent.notice_version,
    ConsentEvent.occurred_at,
    ConsentEvent.method,
    ConsentEvent.notice_language,
    ConsentEvent.notice_sha256,
)


def _entry(row: Row[str, str, datetime, str, str, str]) -> Entry:
    return Entry(
        Action(row.action),
        row.notice_version,
        row.occurred_at,
        row.method,
        row.notice_language,
        row.notice_sha256,
    )


def record(
    session: Session,
    *,
    user_id: str,
    action: Action,
    notice: Notice,
    facts_sha256: str,
    method: str,
    now: datetime,
) -> None:
    """Append one decision to the ledger and the audit trail (same transaction).
    ``notice`` is the exact text shown (its version, language and hash are recorded);
    ``facts_sha256`` is the hash of the deployment-facts block shown beside it
    (authdemo/consent/facts.py)."""
    if not method or len(method) > METHOD_MAX:
        raise ValueError("method must be 1-64 characters, e.g. 'signup:passkey-consent'")
    if not _HEX64.fullmatch(facts_sha256):
        raise ValueError("facts_sha256 must be a SHA-256 in lower-case hex")
    session.execute(
        insert(ConsentEvent).values(
            occurred_at=now,
            user_ref=user_id,
            purpose=notice.purpose,
            action=str(action),
            notice_version=notice.version,
            notice_language=notice.language,
            notice_sha256=notice.sha256,
            facts_sha256=facts_sha256,
            method=method,
        )
    )
    audit.record(
        session,
        _AUDIT_EVENT[action],
        now=now,
        user_id=user_id,
        purpose=notice.purpose,
        notice_version=notice.version,
        via=method,
    )


def latest(session: Session, user_id: str, purpose: str = PASSKEY_SIGNIN) -> Entry | None:
    """The person's most recent decision for ``purpose`` (their current state)."""
    row = session.execute(
        select(*_ENTRY_COLUMNS)
        .where(ConsentEvent.user_ref == user_id, ConsentEvent.purpose == purpose)
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _entry(row)


def ledger_position(session: Session, user_id: str, purpose: str = PASSKEY_SIGNIN) -> int:
    """Where the person's ledger for ``purpose`` stands now (0: no entry yet). A passkey
    ceremony started with an opt-in remembers it, so that a "no" recorded after it (a
    withdrawal in another tab) stops it (``said_no_since``)."""
    found = session.execute(
        select(func.max(ConsentEvent.id)).where(
            ConsentEvent.user_ref == user_id, ConsentEvent.purpose == purpose
        )
    ).scalar_one()
    return int(found or 0)


def said_no_since(
    session: Session, user_id: str, position: int, purpose: str = PASSKEY_SIGNIN
) -> bool:
    """A decision other than a grant was recorded after ``ledger_position`` returned
    ``position``."""
    found = session.execute(
        select(ConsentEvent.id)
        .where(
            ConsentEvent.user_ref == user_id,
            ConsentEvent.purpose == purpose,
            ConsentEvent.id > position,
            ConsentEvent.action != Action.GRANTED.value,
        )
        .limit(1)
    ).first()
    return found is not None


def history(session: Session, user_id: str) -> list[Entry]:
    """All of the person's decisions, oldest first (for their own pages and export)."""
    rows = session.execute(
        select(*_ENTRY_COLUMNS)
        .where(ConsentEvent.user_ref == user_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    ).all()
    return [_entry(r) for r in rows]


def grant(
    session: Session,
    *,
    user_id: str,
    notice: Notice,
    facts_sha256: str,
    method: str,
    now: datetime,
) -> bool:
    """Record consent to ``notice`` unless the person's current state already is exactly
    that (adding a second passkey is not a new decision). Returns True if recorded."""
    if agreed_to(session, user_id=user_id, notice=notice):
        return False
    record(
        session,
        user_id=user_id,
        action=Action.GRANTED,
        notice=notice,
        facts_sha256=facts_sha256,
        method=method,
        now=now,
    )
    return True


def agreed_to(session: Session, *, user_id: str, notice: Notice) -> bool:
    """The person's current decision is a grant of exactly ``notice`` (its version): a
    page may then remind them in one line instead of asking again, and adding a passkey
    records nothing new. Any newer version, material or not, is asked about again."""
    current = latest(session, user_id, notice.purpose)
    return (
        current is not None
        and current.action is Action.GRANTED
        and current.notice_version == notice.version
    )


def require_agreed_to(session: Session, *, user_id: str, notice: Notice) -> None:
    """Adding a passkey without a tick (the page showed the one-line reminder): allowed
    only while the person's grant of the current notice stands; otherwise the page must
    show the notice and the unticked box again (GDPR Art 7(1), EDPB 05/2020 §3.4)."""
    if not agreed_to(session, user_id=user_id, notice=notice):
        raise ConsentNotGiven()


def decline(
    session: Session,
    *,
    user_id: str,
    notice: Notice,
    facts_sha256: str,
    method: str,
    now: datetime,
    quiet_period: timedelta,
) -> None:
    """ "No thanks" to an invitation. Refused (409) when the person is not being invited
    (they said no recently, or they use passkeys: withdrawing is how to stop), so a
    replayed post leaves the ledger unchanged."""
    if not may_invite(session, user_id, now=now, quiet_period=quiet_period):
        raise AlreadyRecorded()
    record(
        session,
        user_id=user_id,
        action=Action.DECLINED,
        notice=notice,
        facts_sha256=facts_sha256,
        method=method,
        now=now,
    )


def reconsent(
    session: Session,
    book: NoticeBook,
    *,
    user_id: str,
    notice: Notice,
    facts_sha256: str,
    method: str,
    now: datetime,
) -> None:
    """Agree to the new material notice. Refused (409) when nothing is due (replay)."""
    if ask_again(session, book, user_id) is None:
        raise AlreadyRecorded()
    record(
        session,
        user_id=user_id,
        action=Action.GRANTED,
        notice=notice,
        facts_sha256=facts_sha256,
        method=method,
        now=now,
    )


# --- withdrawal ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Withdrawn:
    passkeys_deleted: int
    #: False when the person now has no way in (``authdemo.ways_in``: no password + code;
    #: recovery codes are a way back, not a way in): they are told so plainly and offered
    #: the ways to carry on, or deletion.
    way_in_left: bool
    recovery_codes_left: int
    #: The account's other sessions ended because it has nothing left to confirm with.
    other_sessions_ended: int = 0


def withdraw(
    session: Session,
    *,
    user_id: str,
    notice: Notice,
    facts_sha256: str,
    method: str,
    now: datetime,
    session_ref: str | None = None,
    acting_session_id: int | None = None,
) -> Withdrawn:
    """Stop passkey sign-in now: delete every passkey of the person and record the
    withdrawal. Their passkey ceremonies in flight end with it: a step-up has no passkey
    left to sign with, and adding a passkey refuses a withdrawal made after its options
    (passkeys/service.py, ``_consent_for_adding``). Refused (409) when there is nothing
    to withdraw, so a replayed post leaves the ledger unchanged. No step-up here: the route
    asks one first only when this would leave nothing to confirm with (decision 0013).

    When nothing is left to confirm with (no passkey, no password + code), every session
    of the account but ``acting_session_id`` (the one that withdrew, from a recent sign-in)
    ends in the same transaction: a session of such an account may set up a way in without
    step-up, so an old session elsewhere (perhaps someone else's) must not be one."""
    current = latest(session, user_id, notice.purpose)
    passkey_ids = list(
        session.execute(
            delete(Passkey).where(Passkey.user_id == user_id).returning(Passkey.id)
        ).scalars()
    )
    if not passkey_ids and (current is None or current.action is not Action.GRANTED):
        raise AlreadyRecorded()
    for passkey_id in sorted(passkey_ids):
        audit.record(
            session,
            Event.PASSKEY_REMOVED,
            now=now,
            user_id=user_id,
            passkey_id=passkey_id,
            session_ref=session_ref,
        )
    record(
        session,
        user_id=user_id,
        action=Action.WITHDRAWN,
        notice=notice,
        facts_sha256=facts_sha256,
        method=method,
        now=now,
    )
    left = ways_in.methods_of(session, user_id)
    ended = 0
    if not left.any_registered:
        ended = sessions.revoke_all(session, user_id=user_id, except_id=acting_session_id)
        if ended:
            audit.record(
                session,
                Event.SESSION_REVOKED,
                now=now,
                user_id=user_id,
                session_ref=session_ref,
                count=ended,
            )
    return Withdrawn(
        len(passkey_ids), left.has_way_in(passkey_signin=False), left.recovery_codes, ended
    )


def has_passkeys(session: Session, user_id: str) -> bool:
    return ways_in.methods_of(session, user_id).passkeys > 0


# --- asking ----------------------------------------------------------------------------


class AskedBecause(enum.StrEnum):
    """Why a person who uses passkeys is asked about the notice again: each reason
    ``ask_again`` can give, so the question can say the true one."""

    #: No decision on record, e.g. an account whose passkeys are older than the ledger.
    NO_RECORD = "no-record"
    #: The decision on record is a "No thanks" or a withdrawal, yet the account has passkeys.
    NOT_A_GRANT = "not-a-grant"
    #: The grant names a version this deployment has no text of: nobody can say what it said.
    UNKNOWN_VERSION = "unknown-version"
    #: A material version was published after the one agreed to.
    MATERIAL_CHANGE = "material-change"


@dataclass(frozen=True, slots=True)
class AskAgain:
    """The question to put to a person again: the notice to agree to, and why."""

    #: The current notice (its English original).
    notice: Notice
    because: AskedBecause
    #: The person's latest decision on record (None: there is none).
    last: Entry | None
    #: For a material change: the material versions published since the one agreed to,
    #: oldest first (what changed what the person agreed to).
    changed_by: tuple[Notice, ...] = ()


def ask_again(session: Session, book: NoticeBook, user_id: str) -> AskAgain | None:
    """Whether, and why, to ask a person about passkey sign-in again (None: not asked).
    Asked of people who use passkeys without a grant of a version that is still in force:
    no decision on record at all (accounts from before the ledger existed), a "no" on
    record, a grant of a version we have no text of, or a material version published
    since the one agreed to (GDPR Art 7(1): the consent relied on must be demonstrable)."""
    if not has_passkeys(session, user_id):
        return None
    current = book.current(PASSKEY_SIGNIN)
    last = latest(session, user_id)
    if last is None:
        return AskAgain(current, AskedBecause.NO_RECORD, None)
    if last.action is not Action.GRANTED:
        return AskAgain(current, AskedBecause.NOT_A_GRANT, last)
    changed = book.material_versions_since(PASSKEY_SIGNIN, last.notice_version)
    if changed is None:
        return AskAgain(current, AskedBecause.UNKNOWN_VERSION, last)
    if changed:
        return AskAgain(current, AskedBecause.MATERIAL_CHANGE, last, changed)
    return None


def may_invite(session: Session, user_id: str, *, now: datetime, quiet_period: timedelta) -> bool:
    """May we *offer* passkeys to this person (an invitation on their account page)?
    Not if they use passkeys already, and not within ``quiet_period`` of a "No thanks" or
    a withdrawal: no nagging (GDPR Recital 32: a request for consent must not be
    unnecessarily disruptive). They can always opt in themselves."""
    if has_passkeys(session, user_id):
        return False
    current = latest(session, user_id)
    if current is None or current.action is Action.GRANTED:
        return True
    return now - current.occurred_at >= quiet_period
