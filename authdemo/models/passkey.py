"""A registered passkey: a public key and the few facts needed to verify and describe it.

Nothing else from the attestation is kept (no attestation statement, no certificates).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authdemo.models.base import Base

if TYPE_CHECKING:
    from authdemo.models.user import User

#: WebAuthn L3 §5.8.3 / §7.1 step 25: credential ids are at most 1023 bytes.
CREDENTIAL_ID_MAX = 1023
PASSKEY_NAME_MAX = 64


class Passkey(Base):
    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(CREDENTIAL_ID_MAX), unique=True)
    #: COSE_Key bytes as sent by the authenticator, checked usable before storing.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: COSE algorithm identifier (-7 ES256, -8 EdDSA, -257 RS256).
    algorithm: Mapped[int] = mapped_column(Integer)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Authenticator model id (not unique to a device); used to show the provider's name.
    aaguid: Mapped[str] = mapped_column(String(36))
    #: BE flag: fixed at creation (WebAuthn L3 §6.1.3); a change is refused.
    backup_eligible: Mapped[bool] = mapped_column(Boolean)
    #: BS flag: may change over time (a passkey becomes synced).
    backup_state: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(PASSKEY_NAME_MAX))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="passkeys")
