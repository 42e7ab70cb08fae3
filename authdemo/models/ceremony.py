"""Passkey ceremonies: their kinds, and the challenges already used.

A ceremony's state travels to the browser sealed in a token (authdemo/passkeys/ceremonies.py);
nothing is stored when it starts. What the server keeps is the SHA-256 of each challenge
a verify request used, until the challenge would have expired anyway: the one authority
for single use (docs/decisions/0019-sealed-challenges.md).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import Base, not_personal


class CeremonyKind(enum.StrEnum):
    SIGN_UP = "sign_up"  # registration that creates the account
    ADD_PASSKEY = "add_passkey"  # registration for a signed-in person
    SIGN_IN = "sign_in"  # usernameless authentication
    STEP_UP = "step_up"  # re-authentication of the signed-in person


class UsedChallenge(Base):
    """A challenge that a verify request (or "No thanks", or a new username) used up.

    Only the digest of 32 random bytes and when it expires: no account, no time of use
    finer than the expiry, nothing that links it to a person or to another row.
    """

    __tablename__ = "used_challenges"

    #: SHA-256 of the challenge. The primary key is the single-use check: a second insert
    #: of the same digest is a replay (or the loser of a race).
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True, info=not_personal())
    #: When the challenge expires; ``flask retention purge`` deletes the row after it.
    expires_at: Mapped[datetime] = mapped_column(index=True, info=not_personal())
