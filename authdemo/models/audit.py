"""Append-only audit trail. Pseudonymous: an opaque user id, never a username, IP or UA."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, personal


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=personal())
    occurred_at: Mapped[datetime] = mapped_column(index=True, info=personal())
    #: Dotted event name, e.g. "sign_in.succeeded" (see authdemo.audit.Event).
    event: Mapped[str] = mapped_column(String(48), info=personal())
    #: The account's opaque id while it exists; after erasure, "erased:" + a keyed HMAC.
    #: No foreign key on purpose: the event must outlive the account (Art 5(2)).
    user_ref: Mapped[str | None] = mapped_column(
        String(80),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK, erasure="pseudonymise"),
    )
    #: Non-identifying detail: method, reason code, passkey row id. Never secrets or PII.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=personal())
    #: Which sign-in session caused the event: HMAC-SHA256 of the session's row id under
    #: a server-side key (never the token), hex. The person's own changes are then left
    #: out of the security notices that session shows (issue 17 item 2); null for events
    #: no signed-in session caused (a sign-in, an operator command).
    session_ref: Mapped[str | None] = mapped_column(String(64), info=personal())
