"""Server-side state of one WebAuthn ceremony: single use, short-lived.

Only a random ceremony id travels in the (signed) session cookie; the challenge stays
here and is deleted as it is consumed (docs/decisions/0001-server-side-challenges.md).
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, not_personal, personal


class CeremonyKind(enum.StrEnum):
    SIGN_UP = "sign_up"  # registration that creates the account
    ADD_PASSKEY = "add_passkey"  # registration for a signed-in person
    SIGN_IN = "sign_in"  # usernameless authentication
    STEP_UP = "step_up"  # re-authentication of the signed-in person


def new_ceremony_id() -> str:
    return secrets.token_urlsafe(32)


class Ceremony(Base):
    __tablename__ = "ceremonies"

    id: Mapped[str] = mapped_column(
        String(64), primary_key=True, default=new_ceremony_id, info=not_personal()
    )
    kind: Mapped[CeremonyKind] = mapped_column(
        Enum(
            CeremonyKind,
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda kinds: [k.value for k in kinds],
        ),
        info=personal(),
    )
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64), info=not_personal())
    #: For ADD_PASSKEY / STEP_UP: who started it (a response must belong to this person).
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), info=personal(export=False, reason=ACCOUNT_LINK)
    )
    #: For SIGN_UP: the account to create once the passkey verifies.
    pending_username: Mapped[str | None] = mapped_column(String(32), info=personal())
    pending_display_name: Mapped[str | None] = mapped_column(String(64), info=personal())
    pending_user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(64), info=personal())
    #: For SIGN_UP: the notice version the person agreed to when the ceremony started. The
    #: ledger's grant is written from here with the account, never from the cookie, so a
    #: later "No thanks" or username change (which discard the ceremony) cannot be outrun.
    consent_notice_version: Mapped[str | None] = mapped_column(String(16), info=personal())
    #: With it, the SHA-256 of the deployment-facts block shown beside that notice.
    consent_facts_sha256: Mapped[str | None] = mapped_column(String(64), info=personal())
    expires_at: Mapped[datetime] = mapped_column(index=True, info=personal())
