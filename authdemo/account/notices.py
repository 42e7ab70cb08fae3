"""Security notices in the app, from the audit trail (no e-mail needed).

What a person should hear about, because it may not have been them: a passkey added or
removed, a new sign-in, a possibly cloned passkey, a recovery code used, the password or
the one-time-code app changed, their username changed (OWASP ASVS 5.0 V6.3.7: notify
users of changes to their authentication details). The audit trail already records each
of these; a notice is an audit event newer than ``users.notices_seen_at``, shown once on
the person's next visit and listed on their account page for as long as the audit trail
keeps it (AUDIT_RETENTION_DAYS).

Notices are about what someone else may have done (issue 17 item 2): what the viewing
session did itself (its audit rows carry its ``session_ref``, and its own sign-in) is
neither a notice nor recent activity there. It stays unseen for the person's other
sessions, which is where "Wasn't you?" is the right question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from authdemo.audit import Event
from authdemo.models import AuditEvent, User

#: Sign-in method -> the whole sentence, so a translation can put the words in its own
#: order (German puts the verb last).
_SIGN_INS = {
    "passkey": lazy_gettext("New sign-in to your account with a passkey."),
    "password_totp": lazy_gettext("New sign-in to your account with a password and one-time code."),
    "recovery_code": lazy_gettext("New sign-in to your account with a recovery code."),
}


def _sign_in(details: dict[str, Any]) -> str:
    sentence = _SIGN_INS.get(str(details.get("method")))
    return str(sentence) if sentence is not None else _("New sign-in to your account.")


def _recovery_code(details: dict[str, Any]) -> str:
    left = details.get("remaining")
    if isinstance(left, int):
        return str(_("A recovery code was used to sign in. %(num)d left.", num=left))
    return str(_("A recovery code was used to sign in."))


def _profile(details: dict[str, Any]) -> str:
    if details.get("field") == "username":
        return str(_("Your username was changed."))
    return str(_("Your display name was changed."))


#: Event -> the sentence the person reads, in their language when it is shown. Only these
#: events become notices.
MESSAGES: dict[str, Any] = {
    Event.PASSKEY_ADDED: lazy_gettext("A passkey was added to your account."),
    Event.PASSKEY_REMOVED: lazy_gettext("A passkey was removed from your account."),
    Event.SIGN_IN_SUCCEEDED: _sign_in,
    Event.POSSIBLE_CLONED_PASSKEY: lazy_gettext(
        "One of your passkeys may have been copied: it was used with an out-of-date "
        "counter, and that sign-in was refused. Check your passkeys."
    ),
    Event.RECOVERY_CODE_USED: _recovery_code,
    Event.TOTP_ENROLLED: lazy_gettext("Sign-in with a password and one-time code was set up."),
    Event.SECOND_FACTOR_REMOVED: lazy_gettext(
        "Sign-in with a password and one-time code was removed."
    ),
    Event.PASSWORD_CHANGED: lazy_gettext("Your password was changed."),
    Event.OPERATOR_RECOVERY: lazy_gettext(
        "New recovery codes were issued for your account by our support team, after "
        "checking your identity. Your old codes no longer work."
    ),
    Event.PROFILE_CHANGED: _profile,
}
NOTICE_EVENTS = tuple(str(event) for event in MESSAGES)
#: At most this many notices are shown at once; the account page lists the rest.
SHOWN_AT_ONCE = 10


@dataclass(frozen=True, slots=True)
class Viewer:
    """The session looking at the notices: what it did itself is no news to it."""

    #: When it signed in (its sign-in event has this timestamp: ``sessions.service.start``).
    sign_in_at: datetime | None = None
    #: Its ``session_ref`` under each data key (``sessions.auth.session_refs``).
    session_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    #: The audit row: one event is shown at most once on a page.
    id: int
    event: str
    occurred_at: datetime
    message: str
    #: News to this session: not shown before (newer than users.notices_seen_at), and
    #: not something this session did itself.
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


def _events(
    session: Session,
    *,
    user: User,
    after: datetime,
    limit: int,
    leave_out: tuple[str, ...] = (),
) -> list[Any]:
    """The person's notice events after ``after``, newest first; ``leave_out``: the
    ``session_ref`` values whose events are not wanted."""
    query = select(
        AuditEvent.id,
        AuditEvent.event,
        AuditEvent.occurred_at,
        AuditEvent.details,
        AuditEvent.session_ref,
    ).where(
        AuditEvent.user_ref == user.id,
        AuditEvent.event.in_(NOTICE_EVENTS),
        AuditEvent.occurred_at > after,
    )
    if leave_out:
        query = query.where(
            or_(AuditEvent.session_ref.is_(None), AuditEvent.session_ref.not_in(leave_out))
        )
    ordered = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return list(session.execute(ordered.limit(limit)).all())


def _by_viewer(row: Any, viewer: Viewer) -> bool:
    if row.session_ref is not None and row.session_ref in viewer.session_refs:
        return True
    # The sign-in that started this very session (a sign-in is written before the session
    # exists, so it carries no session_ref; the session and its sign-in event share their
    # timestamp).
    return bool(row.event == Event.SIGN_IN_SUCCEEDED and row.occurred_at == viewer.sign_in_at)


def _as_notices(rows: list[Any], *, user: User, viewer: Viewer) -> list[Notice]:
    floor = _seen_floor(user)
    return [
        Notice(
            id=row.id,
            event=row.event,
            occurred_at=row.occurred_at,
            message=_message(row.event, row.details),
            new=row.occurred_at > floor and not _by_viewer(row, viewer),
        )
        for row in rows
    ]


def unseen(session: Session, *, user: User, viewer: Viewer) -> list[Notice]:
    """The notices not shown before, newest first (at most ``SHOWN_AT_ONCE``). Reads only.

    What the viewing session did itself is left out, for the person's other sessions to
    show."""
    rows = _events(
        session,
        user=user,
        after=_seen_floor(user),
        limit=SHOWN_AT_ONCE + 1,  # one more: the viewer's own sign-in may be among them
        leave_out=viewer.session_refs,
    )
    return [n for n in _as_notices(rows, user=user, viewer=viewer) if n.new][:SHOWN_AT_ONCE]


def take_unseen(session: Session, *, user: User, viewer: Viewer) -> list[Notice]:
    """``unseen``, and marks them (and anything older) seen, in the caller's transaction.

    Seen is per person, not per device: a notice shown on one device is not repeated on
    the next. Only a GET of an account page calls this (decision 0012): a refused form
    that shows the page again shows the notices without marking them.

    One exception keeps a session from hiding its own changes: the mark never passes the
    first unseen thing the viewing session did itself (it was not shown here, so the
    person's other sessions must still show it). A notice that came after such a change
    is then shown once more, here and on the other sessions: told twice rather than
    never."""
    notices = unseen(session, user=user, viewer=viewer)
    if notices:
        seen = max(notice.occurred_at for notice in notices)
        own = _first_unseen_own_event(session, user=user, viewer=viewer)
        if own is not None and own <= seen:
            seen = own - timedelta(microseconds=1)
        session.execute(
            update(User)
            .where(
                User.id == user.id, or_(User.notices_seen_at.is_(None), User.notices_seen_at < seen)
            )
            .values(notices_seen_at=seen)
            .execution_options(synchronize_session=False)
        )
    return notices


def _first_unseen_own_event(session: Session, *, user: User, viewer: Viewer) -> datetime | None:
    """When the viewing session first did something newsworthy that is not yet seen."""
    own: list[ColumnElement[bool]] = (
        [AuditEvent.session_ref.in_(viewer.session_refs)] if viewer.session_refs else []
    )
    if viewer.sign_in_at is not None:
        own.append(
            and_(
                AuditEvent.event == Event.SIGN_IN_SUCCEEDED,
                AuditEvent.occurred_at == viewer.sign_in_at,
            )
        )
    if not own:
        return None
    first: datetime | None = session.scalar(
        select(func.min(AuditEvent.occurred_at)).where(
            AuditEvent.user_ref == user.id,
            AuditEvent.event.in_(NOTICE_EVENTS),
            AuditEvent.occurred_at > _seen_floor(user),
            or_(*own),
        )
    )
    return first


def recent(
    session: Session,
    *,
    user: User,
    now: datetime,
    viewer: Viewer,
    days: int = 30,
    limit: int = 20,
) -> list[Notice]:
    """The last ``days`` of security activity, newest first, for the account page. Like
    the notices, it leaves out what the viewing session did (the person's whole history
    is on the privacy page)."""
    rows = _events(
        session,
        user=user,
        after=now - timedelta(days=days),
        limit=limit + 1,
        leave_out=viewer.session_refs,
    )
    return [
        notice
        for row, notice in zip(rows, _as_notices(rows, user=user, viewer=viewer), strict=True)
        if not _by_viewer(row, viewer)
    ][:limit]
