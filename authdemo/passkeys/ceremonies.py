"""Per-ceremony challenges kept server-side: single use, short-lived (WebAuthn L3 §13.4.3).

A ceremony is consumed with one ``DELETE ... RETURNING`` *before* the response is
verified, so two concurrent requests with the same ceremony id can never both see it,
and a failed attempt cannot be retried with the same challenge.
See docs/decisions/0001-server-side-challenges.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

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
        _TABLE.c.consent_notice_version,
        _TABLE.c.consent_facts_sha256,
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
    consent_notice_version: str | None
    consent_facts_sha256: str | None


def fresh_state(
    kind: CeremonyKind,
    *,
    now: datetime,
    lifetime: timedelta,
    user_id: str | None = None,
    pending_username: str | None = None,
    pending_display_name: str | None = None,
    pending_user_handle: bytes | None = None,
    consent_notice_version: str | None = None,
    consent_facts_sha256: str | None = None,
) -> dict[str, Any]:
    """A new ceremony as every store keeps it: random id and challenge, what is pending,
    and when it expires."""
    return {
        "id": new_ceremony_id(),
        "kind": kind,
        "challenge": secrets.token_bytes(CHALLENGE_BYTES),
        "user_id": user_id,
        "pending_username": pending_username,
        "pending_display_name": pending_display_name,
        "pending_user_handle": pending_user_handle,
        "consent_notice_version": consent_notice_version,
        "consent_facts_sha256": consent_facts_sha256,
        "expires_at": now + lifetime,
    }


def accept(
    state: Mapping[str, Any] | None, *, kind: CeremonyKind, now: datetime
) -> PendingCeremony:
    """The checks every store applies to a ceremony it has just consumed."""
    if state is None:
        raise CeremonyFailed("challenge_unknown_or_used")
    if state["expires_at"] <= now:
        raise CeremonyFailed("challenge_expired")
    if state["kind"] != kind:
        raise CeremonyFailed("wrong_ceremony_kind")
    return PendingCeremony(**{name: state[name] for name in PendingCeremony.__slots__})


def _require_id(ceremony_id: object) -> str:
    if not isinstance(ceremony_id, str) or not ceremony_id:
        raise CeremonyFailed("no_ceremony")
    return ceremony_id


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
    consent_notice_version: str | None = None,
    consent_facts_sha256: str | None = None,
) -> tuple[str, bytes]:
    """Store a fresh challenge; return (ceremony id for the cookie, challenge for options)."""
    state = fresh_state(
        kind,
        now=now,
        lifetime=lifetime,
        user_id=user_id,
        pending_username=pending_username,
        pending_display_name=pending_display_name,
        pending_user_handle=pending_user_handle,
        consent_notice_version=consent_notice_version,
        consent_facts_sha256=consent_facts_sha256,
    )
    session.execute(_INSERT, state)
    return state["id"], state["challenge"]


def consume(
    session: Session, ceremony_id: object, *, kind: CeremonyKind, now: datetime
) -> PendingCeremony:
    """Delete the ceremony and return it; refuse unknown, used, expired or other-kind ones."""
    key = _require_id(ceremony_id)
    row = session.execute(_CONSUME, {"ceremony_id": key}).one_or_none()
    return accept(None if row is None else dict(row._mapping), kind=kind, now=now)


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
        consent_notice_version: str | None = None,
        consent_facts_sha256: str | None = None,
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
        consent_notice_version: str | None = None,
        consent_facts_sha256: str | None = None,
    ) -> tuple[str, bytes]:
        state = fresh_state(
            kind,
            now=now,
            lifetime=lifetime,
            user_id=user_id,
            pending_username=pending_username,
            pending_display_name=pending_display_name,
            pending_user_handle=pending_user_handle,
            consent_notice_version=consent_notice_version,
            consent_facts_sha256=consent_facts_sha256,
        )
        seconds = max(1, int(lifetime.total_seconds()))
        with _redis_errors():
            self._redis.set(self.PREFIX + state["id"], _to_json(state), ex=seconds, nx=True)
        return state["id"], state["challenge"]

    def consume(
        self, session: Session, ceremony_id: object, *, kind: CeremonyKind, now: datetime
    ) -> PendingCeremony:
        key = _require_id(ceremony_id)
        with _redis_errors():
            raw = self._redis.getdel(self.PREFIX + key)
        return accept(None if raw is None else _from_json(raw), kind=kind, now=now)

    def discard(self, session: Session, ceremony_id: str) -> None:
        with _redis_errors():
            self._redis.delete(self.PREFIX + ceremony_id)


def _to_json(state: Mapping[str, Any]) -> str:
    handle = state["pending_user_handle"]
    return json.dumps(
        {
            **{name: value for name, value in state.items() if name != "id"},  # the key
            "kind": state["kind"].value,
            "challenge": state["challenge"].hex(),
            "pending_user_handle": handle.hex() if handle else None,
            "expires_at": state["expires_at"].isoformat(),
        }
    )


def _from_json(raw: str | bytes) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(raw)
    handle = state["pending_user_handle"]
    return {
        **state,
        "kind": CeremonyKind(state["kind"]),
        "challenge": bytes.fromhex(state["challenge"]),
        "pending_user_handle": bytes.fromhex(handle) if handle else None,
        # Absent in a ceremony started before this field existed: no consent bound to it.
        "consent_notice_version": state.get("consent_notice_version"),
        "expires_at": datetime.fromisoformat(state["expires_at"]),
    }


@contextmanager
def _redis_errors() -> Iterator[None]:
    """Redis unreachable: a clear 503, never a 500 and never a silent pass."""
    from redis.exceptions import RedisError

    try:
        yield
    except RedisError as exc:
        raise ServiceUnavailable() from exc
