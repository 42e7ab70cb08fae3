"""The audit trail: one explicit call site per event, pseudonymous, append-only."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from authdemo.models import AuditEvent


class Event(enum.StrEnum):
    SIGN_UP = "account.created"
    SIGN_IN_SUCCEEDED = "sign_in.succeeded"
    SIGN_IN_FAILED = "sign_in.failed"
    POSSIBLE_CLONED_PASSKEY = "passkey.possible_clone"
    PASSKEY_ADDED = "passkey.added"
    PASSKEY_REMOVED = "passkey.removed"
    SIGNED_OUT = "session.signed_out"
    SESSION_REVOKED = "session.revoked"


#: Keys allowed in ``details``. Anything else is a programming error: this stops a
#: username, code or key from slipping into the trail by accident.
ALLOWED_DETAIL_KEYS = frozenset({"method", "reason", "passkey_id", "session_id", "count"})


def record(
    session: Session,
    event: Event,
    *,
    now: datetime,
    user_id: str | None = None,
    **details: Any,
) -> None:
    """Append one audit event (flushed with the caller's transaction, never committed here)."""
    unexpected = set(details) - ALLOWED_DETAIL_KEYS
    if unexpected:
        raise ValueError(f"audit details not allowed: {sorted(unexpected)}")
    session.execute(
        insert(AuditEvent).values(
            occurred_at=now, event=str(event), user_ref=user_id, details=details
        )
    )
