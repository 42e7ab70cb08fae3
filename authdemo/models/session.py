"""Signed-in sessions as server-side records, so they can be listed, expired and revoked.

The cookie carries a random token; only its SHA-256 is stored, so a copy of the
database does not let anyone take over a session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, personal

#: Why the export leaves the token hash out.
WITHHELD_SESSION_HASH = (
    "A hash of the secret your browser holds to stay signed in. It protects your account "
    "and says nothing about you."
)


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=personal())
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    token_hash: Mapped[bytes] = mapped_column(
        LargeBinary(32), unique=True, info=personal(export=False, reason=WITHHELD_SESSION_HASH)
    )
    #: "passkey", "password_totp" or "recovery_code".
    method: Mapped[str] = mapped_column(String(16), info=personal())
    created_at: Mapped[datetime] = mapped_column(info=personal())
    last_seen_at: Mapped[datetime] = mapped_column(info=personal())
    #: When the person last proved it is them (sign-in or step-up).
    authenticated_at: Mapped[datetime] = mapped_column(info=personal())
    idle_expires_at: Mapped[datetime] = mapped_column(info=personal())
    absolute_expires_at: Mapped[datetime] = mapped_column(index=True, info=personal())
    #: A recovery-code session may only set up a new way in (and sign out).
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, info=personal())
    #: A short device description, kept only if the person asks for it.
    device_label: Mapped[str | None] = mapped_column(String(64), info=personal())
