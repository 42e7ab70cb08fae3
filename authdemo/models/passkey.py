"""A registered passkey: a public key and the few facts needed to verify and describe it.

Nothing else from the attestation is kept (no attestation statement, no certificates).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authdemo.models.base import ACCOUNT_LINK, Base, personal

if TYPE_CHECKING:
    from authdemo.models.user import User

#: WebAuthn L3 §5.8.3 / §7.1 step 25: credential ids are at most 1023 bytes.
CREDENTIAL_ID_MAX = 1023
PASSKEY_NAME_MAX = 64


class Passkey(Base):
    __tablename__ = "passkeys"

    #: Shown to the person (audit events name a passkey by this id).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=personal())
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    credential_id: Mapped[bytes] = mapped_column(
        LargeBinary(CREDENTIAL_ID_MAX), unique=True, info=personal()
    )
    #: COSE_Key bytes as sent by the authenticator, checked usable before storing.
    public_key: Mapped[bytes] = mapped_column(LargeBinary, info=personal())
    #: COSE algorithm identifier (-7 ES256, -8 EdDSA, -257 RS256).
    algorithm: Mapped[int] = mapped_column(Integer, info=personal())
    sign_count: Mapped[int] = mapped_column(Integer, default=0, info=personal())
    transports: Mapped[list[str]] = mapped_column(JSON, default=list, info=personal())
    #: Authenticator model id (not unique to a device); used to show the provider's name.
    aaguid: Mapped[str] = mapped_column(String(36), info=personal())
    #: BE flag: fixed at creation (WebAuthn L3 §6.1.3); a change is refused.
    backup_eligible: Mapped[bool] = mapped_column(Boolean, info=personal())
    #: BS flag: may change over time (a passkey becomes synced).
    backup_state: Mapped[bool] = mapped_column(Boolean, info=personal())
    name: Mapped[str] = mapped_column(String(PASSKEY_NAME_MAX), info=personal())
    created_at: Mapped[datetime] = mapped_column(info=personal())
    last_used_at: Mapped[datetime | None] = mapped_column(info=personal())

    user: Mapped[User] = relationship(back_populates="passkeys")
