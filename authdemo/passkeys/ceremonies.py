"""Per-ceremony challenges kept server-side: single use, short-lived (WebAuthn L3 §13.4.3).

A ceremony is consumed with one ``DELETE ... RETURNING`` *before* the response is
verified, so two concurrent requests with the same ceremony id can never both see it,
and a failed attempt cannot be retried with the same challenge.
See docs/decisions/0001-server-side-challenges.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.orm import Session

from authdemo.errors import CeremonyFailed, ServiceUnavailable
from authdemo.models import Ceremony, CeremonyKind
from authdemo.models.base import table
from authdemo.models.ceremony import new_ceremony_id

if TYPE_CHECKING:
    from redis import Redis

CHALLENGE_BYTES = 32

# Built once: on the sign-in path, building a statement per call costs more than running
# it (make bench --profile). Core table statements, parameters bound at execution.
_TABLE = table(Ceremony)
_INSERT = insert(_TABLE)
_CONSUME = (
    delete(_TABLE)
    .where(_TABLE.c.id == bindparam("ceremony_id"))
    .returning(
        _TABLE.c.kind,
        _TABLE.c.challenge,
        _TABLE.c.user_id,
        _TABLE.c.pending_username,
        _TABLE.c.pending_display_name,
        _TABLE.c.pending_user_handle,
        _TABLE.c.expires_at,
    )
)


@dataclass(frozen=True, slots=True)
class PendingCeremony:
    kind: CeremonyKind
    challenge: bytes
    user_id: str | None
    pending_username: str | None
    pending_display_name: str | None
    pending_user_handle: bytes | None


def start(
    session: Session,
    *,
    kind: CeremonyKind,
    now: datetime,
    lifetime: timedelta,
    user_id: str | None = None,
    pending_username: str | None = None,
    pending_display_name: str | None = None,
    pending_user_handle: bytes | None = None,
) -> tuple[str, bytes]:
    """Store a fresh challenge; return (ceremony id for the cookie, challenge for options)."""
    ceremony_id = new_ceremony_id()
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    session.execute(
        _INSERT,
        {
            "id": ceremony_id,
            "kind": kind,
            "challenge": challenge,
            "user_id": user_id,
            "pending_username": pending_username,
            "pending_display_name": pending_display_name,
            "pending_user_handle": pending_user_handle,
            "expires_at": now + lifetime,
        },
    )
    return ceremony_id, challenge


def consume(
    session: Session, ceremony_id: object, *, kind: CeremonyKind, now: datetime
) -> PendingCeremony:
    """Delete the ceremony and return it; refuse unknown, used, expired or other-kind ones."""
    if not isinstance(ceremony_id, str) or not ceremony_id:
        raise CeremonyFailed("no_ceremony")
    row = session.execute(_CONSUME, {"ceremony_id": ceremony_id}).one_or_none()
    if row is None:
        raise CeremonyFailed("challenge_unknown_or_used")
    if row.expires_at <= now:
        raise CeremonyFailed("challenge_expired")
    if row.kind != kind:
        raise CeremonyFailed("wrong_ceremony_kind")
    return PendingCeremony(
        kind=row.kind,
        challenge=row.challenge,
        user_id=row.user_id,
        pending_username=row.pending_username,
        pending_display_name=row.pending_display_name,
        pending_user_handle=row.pending_user_handle,
    )


def discard(session: Session, ceremony_id: str) -> None:
    session.execute(delete(Ceremony).where(Ceremony.id == ceremony_id))


def purge_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(Ceremony).where(Ceremony.expires_at <= now))
    return int(getattr(result, "rowcount", 0))


# --- where ceremonies live ---------------------------------------------------------------


class CeremonyStore(Protocol):
    """Ceremony state, consumed atomically. The database by default; Redis when several
    instances share it (one round trip each way, expiry enforced by a TTL too)."""

    def start(
        self,
        session: Session,
        *,
        kind: CeremonyKind,
        now: datetime,
        lifetime: timedelta,
        user_id: str | None = None,
        pending_username: str | None = None,
        pending_display_name: str | None = None,
        pending_user_handle: bytes | None = None,
    ) -> tuple[str, bytes]: ...

    def consume(
        self, session: Session, ceremony_id: object, *, kind: CeremonyKind, now: datetime
    ) -> PendingCeremony: ...

    def discard(self, session: Session, ceremony_id: str) -> None: ...


class DatabaseStore:
    """The ``ceremonies`` table, in the request's transaction."""

    start = staticmethod(start)
    consume = staticmethod(consume)
    discard = staticmethod(discard)


class RedisStore:
    """Redis keys with a TTL; ``GETDEL`` consumes atomically across every instance."""

    PREFIX = "authdemo:ceremony:"

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def start(
        self,
        session: Session,
        *,
        kind: CeremonyKind,
        now: datetime,
        lifetime: timedelta,
        user_id: str | None = None,
        pending_username: str | None = None,
        pending_display_name: str | None = None,
        pending_user_handle: bytes | None = None,
    ) -> tuple[str, bytes]:
        ceremony_id = new_ceremony_id()
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        state = {
            "kind": kind.value,
            "challenge": challenge.hex(),
            "user_id": user_id,
            "pending_username": pending_username,
            "pending_display_name": pending_display_name,
            "pending_user_handle": pending_user_handle.hex() if pending_user_handle else None,
            "expires_at": (now + lifetime).isoformat(),
        }
        seconds = max(1, int(lifetime.total_seconds()))
        with _redis_errors():
            self._redis.set(self.PREFIX + ceremony_id, json.dumps(state), ex=seconds, nx=True)
        return ceremony_id, challenge

    def consume(
        self, session: Session, ceremony_id: object, *, kind: CeremonyKind, now: datetime
    ) -> PendingCeremony:
        if not isinstance(ceremony_id, str) or not ceremony_id:
            raise CeremonyFailed("no_ceremony")
        with _redis_errors():
            raw = self._redis.getdel(self.PREFIX + ceremony_id)
        if raw is None:
            raise CeremonyFailed("challenge_unknown_or_used")
        state = json.loads(raw)
        if datetime.fromisoformat(state["expires_at"]) <= now:
            raise CeremonyFailed("challenge_expired")
        if state["kind"] != kind.value:
            raise CeremonyFailed("wrong_ceremony_kind")
        handle = state["pending_user_handle"]
        return PendingCeremony(
            kind=CeremonyKind(state["kind"]),
            challenge=bytes.fromhex(state["challenge"]),
            user_id=state["user_id"],
            pending_username=state["pending_username"],
            pending_display_name=state["pending_display_name"],
            pending_user_handle=bytes.fromhex(handle) if handle else None,
        )

    def discard(self, session: Session, ceremony_id: str) -> None:
        with _redis_errors():
            self._redis.delete(self.PREFIX + ceremony_id)


@contextmanager
def _redis_errors() -> Iterator[None]:
    """Redis unreachable: a clear 503, never a 500 and never a silent pass."""
    from redis.exceptions import RedisError

    try:
        yield
    except RedisError as exc:
        raise ServiceUnavailable() from exc
