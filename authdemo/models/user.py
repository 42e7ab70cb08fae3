"""The person's account. Deliberately small: no e-mail, phone or real name is required."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authdemo.models.base import Base, personal

if TYPE_CHECKING:
    from authdemo.models.passkey import Passkey

USERNAME_MAX = 32
DISPLAY_NAME_MAX = 64
USER_HANDLE_BYTES = 64
#: A catalogue folder name such as "de" or "pt_BR" (authdemo.i18n.parse_languages).
LANGUAGE_MAX = 16


def new_user_id() -> str:
    """An opaque random id (128 bits), never derived from the username."""
    return secrets.token_hex(16)


def new_user_handle() -> bytes:
    """WebAuthn user handle: 64 random bytes, no personal information (WebAuthn L3 §14.6.1)."""
    return secrets.token_bytes(USER_HANDLE_BYTES)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(
        String(32), primary_key=True, default=new_user_id, info=personal()
    )
    #: Normalised (NFKC + casefold) and restricted to a confusable-safe alphabet.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True, info=personal())
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_MAX), info=personal())
    user_handle: Mapped[bytes] = mapped_column(
        LargeBinary(USER_HANDLE_BYTES), unique=True, default=new_user_handle, info=personal()
    )
    created_at: Mapped[datetime] = mapped_column(info=personal())
    #: Security notices (new passkey, new sign-in...) newer than this are shown once.
    notices_seen_at: Mapped[datetime | None] = mapped_column(info=personal())
    #: The language the person chose for the pages (authdemo/i18n.py); None: follow the
    #: browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), info=personal())

    passkeys: Mapped[list[Passkey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login protocol. The real authentication state lives in the server-side
    # session record (authdemo.sessions); these only describe the loaded user.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id

    @property
    def label(self) -> str:
        return self.display_name or self.username
