"""Time-based one-time codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps).

pyotp computes the codes. This module adds what RFC 6238 §5.2 asks of the verifier: a
code is accepted at most once. We remember the highest time step accepted per account
and move it forward with one conditional UPDATE, so even two simultaneous requests with
the same code cannot both succeed.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from authdemo.models import TotpCredential

SECRET_BYTES = 20  # 160 bits, as RFC 4226 §4 recommends
DIGITS = 6
INTERVAL = 30
_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only (\d would match other scripts)


def new_secret() -> str:
    """A fresh base32 secret (32 characters = 160 bits)."""
    return pyotp.random_base32(length=32)


def normalise_code(raw: object) -> str | None:
    """Digits only (spaces and dashes people type are removed); None if not 6 digits."""
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    code = re.sub(r"[\s-]", "", raw)
    return code if _CODE.fullmatch(code) else None


def matching_step(secret: str, code: str, *, now: datetime, window: int) -> int | None:
    """The time step (now ± window) whose code equals ``code``, compared in constant time."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = totp.timecode(now)
    found = None
    for step in range(current - window, current + window + 1):
        candidate = totp.generate_otp(step)
        if hmac.compare_digest(candidate, code):
            found = step
    return found


def claim_step(session: Session, *, user_id: str, step: int) -> bool:
    """Record ``step`` as used; False if it (or a later one) was already used."""
    result = session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_svg_data_uri(uri: str) -> str:
    """The QR code, drawn here (the secret is never sent to a QR service)."""
    import segno  # imported on first use: only the set-up page needs it (worker memory)

    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def grouped(secret: str) -> str:
    """The key in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
