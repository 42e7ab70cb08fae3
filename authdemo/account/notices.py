"""Security notices in the app, from the audit trail (no e-mail needed).

What a person should hear about, because it may not have been them: a passkey added or
removed, a new sign-in, a possibly cloned passkey, a recovery code used, the password or
the one-time-code app changed, their username changed (OWASP ASVS 5.0 V6.3.7: notify
users of changes to their authentication details). The audit trail already records each
of these; a notice is an audit event newer than ``users.notices_seen_at``, shown once on
the person's next visit and listed on their account page for as long as the audit trail
keeps it (AUDIT_RETENTION_DAYS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authdemo.audit import Event
from authdemo.models import AuditEvent, User

_SIGN_IN_METHODS = {
    "passkey": "with a passkey",
    "password_totp": "with a password and one-time code",
    "recovery_code": "with a recovery code",
}


def _sign_in(details: dict[str, Any]) -> str:
    how = _SIGN_IN_METHODS.get(str(details.get("method")), "")
    return f"New sign-in to your account {how}".rstrip() + "."


def _recovery_code(details: dict[str, Any]) -> str:
    left = details.get("remaining")
    if isinstance(left, int):
        return f"A recovery code was used to sign in. {left} left."
    return "A recovery code was used to sign in."


def _profile(details: dict[str, Any]) -> str:
    if details.get("field") == "username":
        return "Your username was changed."
    return "Your display name was changed."


#: Event -> the sentence the person reads. Only these events become notices.
MESSAGES: dict[str, Any] = {
    Event.PASSKEY_ADDED: "A passkey was added to your account.",
    Event.PASSKEY_REMOVED: "A passkey was removed from your account.",
    Event.SIGN_IN_SUCCEEDED: _sign_in,
    Event.POSSIBLE_CLONED_PASSKEY: (
        "One of your passkeys may have been copied: it was used with an out-of-date "
        "counter, and that sign-in was refused. Check your passkeys."
    ),
    Event.RECOVERY_CODE_USED: _recovery_code,
    Event.TOTP_ENROLLED: "Sign-in with a password and one-time code was set up.",
    Event.SECOND_FACTOR_REMOVED: "Sign-in with a password and one-time code was removed.",
    Event.PASSWORD_CHANGED: "Your password was changed.",
    Event.OPERATOR_RECOVERY: (
        "New recovery codes were issued for your account by our support team, after "
        "checking your identity. Your old codes no longer work."
    ),
    Event.PROFILE_CHANGED: _profile,
}
NOTICE_EVENTS = tuple(str(event) for event in MESSAGES)
#: At most this many notices are shown at once; the account page lists the rest.
SHOWN_AT_ONCE = 10


@dataclass(frozen=True, slots=True)
class Notice:
    event: str
    occurred_at: datetime
    message: str
    #: Not shown before (newer than users.notices_seen_at).
    new: bool


def _message(event: str, details: object) -> str:
    template = MESSAGES[Event(event)]
    if callable(template):
        text: str = template(details if isinstance(details, dict) else {})
        return text
    return str(template)


def _seen_floor(user: User) -> datetime:
    # Before any notice was seen: what happened when the account was created (its first
    # sign-in, the factors set up with it) is no news to its owner.
    return user.notices_seen_at or user.created_at


def _events(session: Session, *, user: User, after: datetime, limit: int) -> list[Any]:
    return list(
        session.execute(
            select(AuditEvent.event, AuditEvent.occurred_at, AuditEvent.details)
            .where(
                AuditEvent.user_ref == user.id,
                AuditEvent.event.in_(NOTICE_EVENTS),
                AuditEvent.occurred_at > after,
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        ).all()
    )


def _as_notices(rows: list[Any], *, user: User, own_sign_in_at: datetime | None) -> list[Notice]:
    floor = _seen_floor(user)
    return [
        Notice(
            event=row.event,
            occurred_at=row.occurred_at,
            message=_message(row.event, row.details),
            new=row.occurred_at > floor,
        )
        for row in rows
        # The sign-in that started this very session is not news to the person in it
        # (a session and its sign-in event are written with the same timestamp).
        if not (row.event == Event.SIGN_IN_SUCCEEDED and row.occurred_at == own_sign_in_at)
    ]


def unseen(session: Session, *, user: User, own_sign_in_at: datetime | None) -> list[Notice]:
    """The notices not shown before, newest first (at most ``SHOWN_AT_ONCE``). Reads only.

    The sign-in of this very session is left out, for the person's other devices to show."""
    rows = _events(session, user=user, after=_seen_floor(user), limit=SHOWN_AT_ONCE + 1)
    return _as_notices(rows, user=user, own_sign_in_at=own_sign_in_at)[:SHOWN_AT_ONCE]


def take_unseen(session: Session, *, user: User, own_sign_in_at: datetime | None) -> list[Notice]:
    """``unseen``, and marks them (and anything older) seen, in the caller's transaction.

    Seen is per person, not per device: a notice shown on one device is not repeated on
    the next. Only a GET of an account page calls this (decision 0012): a refused form
    that shows the page again shows the notices without marking them."""
    notices = unseen(session, user=user, own_sign_in_at=own_sign_in_at)
    if notices:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(notices_seen_at=max(notice.occurred_at for notice in notices))
            .execution_options(synchronize_session=False)
        )
    return notices


def recent(
    session: Session,
    *,
    user: User,
    now: datetime,
    own_sign_in_at: datetime | None,
    days: int = 30,
    limit: int = 20,
) -> list[Notice]:
    """The last ``days`` of security activity, newest first, for the account page."""
    rows = _events(session, user=user, after=now - timedelta(days=days), limit=limit + 1)
    return _as_notices(rows, user=user, own_sign_in_at=own_sign_in_at)[:limit]
