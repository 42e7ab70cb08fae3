"""The non-biometric way in: a password that never works alone, a one-time-code app, and
single-use recovery codes. Each row holds a *verifier* or an encrypted secret, never
anything a person could read back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, not_personal, personal

# Why the export leaves these verifiers and secrets out: they protect the account rather
# than describe the person, and a copy of them would help someone break into it.
WITHHELD_ARGON2_HASH = (
    "The argon2id hash of your password. It protects your account rather than describing "
    "you; in a file that got lost it would let someone try to guess your password offline."
)
WITHHELD_OTP_KEY = (
    "Your authenticator app's secret, encrypted. It protects your account: anyone holding "
    "it could make your one-time codes. Your authenticator app already has it."
)
WITHHELD_RECOVERY_HASHES = (
    "Keyed hashes of your unused recovery codes. They protect your account; the codes "
    "themselves were shown to you once and are not kept."
)


class PasswordCredential(Base):
    __tablename__ = "password_credentials"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    #: argon2id PHC string (parameters, salt and hash); never the password.
    hash: Mapped[str] = mapped_column(
        String(256), info=personal(export=False, reason=WITHHELD_ARGON2_HASH)
    )
    created_at: Mapped[datetime] = mapped_column(info=personal())
    changed_at: Mapped[datetime] = mapped_column(info=personal())


class TotpCredential(Base):
    __tablename__ = "totp_credentials"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    #: AES-256-GCM ciphertext of the 160-bit RFC 6238 secret (authdemo.secrets_at_rest).
    secret_ciphertext: Mapped[bytes] = mapped_column(
        LargeBinary(128), info=personal(export=False, reason=WITHHELD_OTP_KEY)
    )
    #: Highest 30-second time step accepted; a code for it or an earlier step is refused.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, info=personal())
    created_at: Mapped[datetime] = mapped_column(info=personal())


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hmac"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=not_personal())
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    #: HMAC-SHA256 of the normalised code under a server-side key (docs/decisions).
    code_hmac: Mapped[bytes] = mapped_column(
        LargeBinary(32), info=personal(export=False, reason=WITHHELD_RECOVERY_HASHES)
    )
    created_at: Mapped[datetime] = mapped_column(info=personal())


class Enrolment(Base):
    """A sign-up or set-up in progress that must not create anything until it completes
    (e.g. password + code sign-up: the account exists only after a correct code)."""

    __tablename__ = "enrolments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, info=not_personal())
    #: "password_signup" (no account yet) or "totp_setup" (signed-in person).
    kind: Mapped[str] = mapped_column(String(24), info=personal())
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    username: Mapped[str | None] = mapped_column(String(32), info=personal())
    display_name: Mapped[str | None] = mapped_column(String(64), info=personal())
    password_hash: Mapped[str | None] = mapped_column(
        String(256), info=personal(export=False, reason=WITHHELD_ARGON2_HASH)
    )
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary(128), info=personal(export=False, reason=WITHHELD_OTP_KEY)
    )
    expires_at: Mapped[datetime] = mapped_column(index=True, info=personal())
