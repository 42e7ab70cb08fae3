"""The non-biometric way in: a password that never works alone, a one-time-code app, and
single-use recovery codes. Each row holds a *verifier* or an encrypted secret, never
anything a person could read back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import Base


class PasswordCredential(Base):
    __tablename__ = "password_credentials"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: argon2id PHC string (parameters, salt and hash); never the password.
    hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class TotpCredential(Base):
    __tablename__ = "totp_credentials"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: AES-256-GCM ciphertext of the 160-bit RFC 6238 secret (authdemo.secrets_at_rest).
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary(128))
    #: Highest 30-second time step accepted; a code for it or an earlier step is refused.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hmac"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: HMAC-SHA256 of the normalised code under a server-side key (docs/decisions).
    code_hmac: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class Enrolment(Base):
    """A sign-up or set-up in progress that must not create anything until it completes
    (e.g. password + code sign-up: the account exists only after a correct code)."""

    __tablename__ = "enrolments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "password_signup" (no account yet) or "totp_setup" (signed-in person).
    kind: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    username: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    expires_at: Mapped[datetime] = mapped_column(index=True)
