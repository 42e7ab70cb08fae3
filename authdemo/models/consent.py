"""The consent ledger: append-only, one row per decision (GDPR Art 7(1): be able to
demonstrate consent). Rows are never updated except to pseudonymise ``user_ref`` on
account erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, not_personal, personal


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=personal())
    occurred_at: Mapped[datetime] = mapped_column(index=True, info=personal())
    #: The account's opaque id; after erasure "erased:" + a keyed HMAC (as in audit_events).
    user_ref: Mapped[str] = mapped_column(
        String(80),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK, erasure="pseudonymise"),
    )
    #: The purpose consented to; one purpose today: "passkey_signin".
    purpose: Mapped[str] = mapped_column(String(32), info=personal())
    #: "granted", "declined" or "withdrawn".
    action: Mapped[str] = mapped_column(String(16), info=personal())
    notice_version: Mapped[str] = mapped_column(String(16), info=personal())
    #: The language of the notice text shown ("en", "de"): with the version, which pinned
    #: text the hash is of. Decisions recorded before languages were: "en" (migration 0010).
    notice_language: Mapped[str] = mapped_column(String(16), info=personal())
    #: SHA-256 (hex) of the exact notice text shown when the decision was made.
    notice_sha256: Mapped[str] = mapped_column(String(64), info=personal())
    #: SHA-256 (hex) of the deployment-facts block shown beside the notice (controller,
    #: contact, retention: authdemo/consent/facts.py). NULL for decisions recorded before
    #: the block existed (notice version 1 was shown without one).
    facts_sha256: Mapped[str | None] = mapped_column(String(64), info=personal())
    #: How: the page and the control used, e.g. "signup:passkey-consent-checkbox".
    method: Mapped[str] = mapped_column(String(64), info=personal())


class ReceiptKey(Base):
    """A public key that signed consent receipts, kept so ``/.well-known/jwks.json`` can
    publish it for ``CONSENT_RETENTION_DAYS`` after its last use, also once the data key
    it was derived from has left the configuration (authdemo/receipts/service.py,
    docs/decisions/0027-consent-receipts.md). About the deployment, never about a person."""

    __tablename__ = "consent_receipt_keys"

    #: RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: the JWS ``kid``.
    kid: Mapped[str] = mapped_column(String(64), primary_key=True, info=not_personal())
    #: The Ed25519 public key (JWK ``x``, base64url): 32 bytes, nothing secret.
    public_x: Mapped[str] = mapped_column(String(64), info=not_personal())
    first_used_at: Mapped[datetime] = mapped_column(info=not_personal())
    last_used_at: Mapped[datetime] = mapped_column(index=True, info=not_personal())
