"""Server-side sign-in sessions (OWASP Session Management Cheat Sheet).

The browser holds a 256-bit random token inside Flask's signed cookie; the database holds
only its SHA-256. Each session has an idle and an absolute expiry, and can be revoked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from authdemo import audit
from authdemo.audit import Event
from authdemo.models import UserSession
from authdemo.models.base import table

TOKEN_BYTES = 32
#: Refresh last_seen at most this often, so browsing is not a write per request.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class ActiveSession:
    id: int
    user_id: str
    method: str
    authenticated_at: datetime
    restricted: bool
    idle_expires_at: datetime
    absolute_expires_at: datetime
    #: The idle expiry is due to slide (see ``touch``): last seen over TOUCH_INTERVAL ago.
    touch_due: bool = False


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


#: Built once (see authdemo.audit._INSERT): the sign-in path runs it every time.
_INSERT = insert(table(UserSession))


def start(
    session: Session,
    *,
    user_id: str,
    method: str,
    now: datetime,
    policy: SessionPolicy,
    restricted: bool = False,
    replacing: ActiveSession | None = None,
) -> str:
    """Create a session record and return the raw token for the cookie (never stored).

    ``replacing``: the session this browser had (signing in again while signed in) ends
    in the same transaction, so it cannot outlive the cookie that carried it."""
    if replacing is not None:
        revoke(session, session_id=replacing.id, user_id=replacing.user_id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(
        _INSERT,
        {
            "user_id": user_id,
            "token_hash": hash_token(token),
            "method": method,
            "created_at": now,
            "last_seen_at": now,
            "authenticated_at": now,
            "idle_expires_at": now + policy.idle,
            "absolute_expires_at": now + policy.absolute,
            "restricted": restricted,
            "device_label": None,
        },
    )
    return token


def resolve(session: Session, token: str, *, now: datetime) -> ActiveSession | None:
    """Return the live session for ``token``, or None if it is dead. Reads only: sliding
    the idle expiry is ``touch``, a transaction of its own."""
    row = session.execute(
        select(
            UserSession.id,
            UserSession.user_id,
            UserSession.method,
            UserSession.authenticated_at,
            UserSession.restricted,
            UserSession.idle_expires_at,
            UserSession.absolute_expires_at,
            UserSession.last_seen_at,
        ).where(
            UserSession.token_hash == hash_token(token),
            UserSession.idle_expires_at > now,
            UserSession.absolute_expires_at > now,
        )
    ).one_or_none()
    if row is None:
        return None
    return ActiveSession(
        row.id,
        row.user_id,
        row.method,
        row.authenticated_at,
        row.restricted,
        row.idle_expires_at,
        row.absolute_expires_at,
        touch_due=now - row.last_seen_at >= TOUCH_INTERVAL,
    )


def touch(
    session: Session, active: ActiveSession, *, now: datetime, policy: SessionPolicy
) -> ActiveSession:
    """The person is active: slide the idle expiry (OWASP Session Management Cheat Sheet,
    idle timeout), never past the absolute one. Done at most once per TOUCH_INTERVAL, so
    browsing is not a write per request. Returns the session as it now stands."""
    idle_expires_at = min(now + policy.idle, active.absolute_expires_at)
    session.execute(
        update(UserSession)
        .where(UserSession.id == active.id)
        .values(last_seen_at=now, idle_expires_at=idle_expires_at)
    )
    return dataclasses.replace(active, idle_expires_at=idle_expires_at, touch_due=False)


@dataclass(frozen=True, slots=True)
class TimeLeft:
    """How long a session has before it ends, for the page's time-out warning (WCAG 2.2
    success criterion 2.2.1): activity can extend the idle part, never the absolute one."""

    seconds: int
    extendable: bool


def time_left(active: ActiveSession, *, now: datetime) -> TimeLeft:
    idle = active.idle_expires_at - now
    absolute = active.absolute_expires_at - now
    return TimeLeft(
        seconds=max(0, int(min(idle, absolute).total_seconds())), extendable=idle < absolute
    )


def revoke(session: Session, *, session_id: int, user_id: str) -> bool:
    """End one session of this user. Returns False if it was not theirs or already gone."""
    result = session.execute(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


def sign_out(session: Session, active: ActiveSession, *, now: datetime) -> None:
    """Sign out: delete the server-side record (the cookie is then useless) and audit it."""
    revoke(session, session_id=active.id, user_id=active.user_id)
    audit.record(session, Event.SIGNED_OUT, now=now, user_id=active.user_id)


def revoke_all(session: Session, *, user_id: str, except_id: int | None = None) -> int:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    return int(getattr(session.execute(stmt), "rowcount", 0))


def reauthenticated(session: Session, *, session_id: int, now: datetime) -> str:
    """After step-up: record the time and rotate the token (no fixation across privilege
    change, OWASP Session Management). Returns the new raw token for the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(token_hash=hash_token(token), authenticated_at=now)
    )
    return token


def purge_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(
        delete(UserSession).where(
            (UserSession.absolute_expires_at <= now) | (UserSession.idle_expires_at <= now)
        )
    )
    return int(getattr(result, "rowcount", 0))
