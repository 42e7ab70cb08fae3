"""Recovery codes: ten single-use codes of 80 bits each, stored as keyed HMAC-SHA256.

Why HMAC and not argon2: each code already has 80 bits of entropy, so a slow hash adds
nothing against guessing, while checking one entered code against ten argon2 hashes
would cost ten slow hashes per attempt (a denial-of-service lever). A server-side key
means a stolen database alone cannot be used to test guesses offline.
See docs/decisions/0005-recovery-codes-hmac.md.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from authdemo.models import RecoveryCode
from authdemo.secrets_at_rest import KeyedHash

CODE_BYTES = 10  # 80 bits
_ALPHABET = re.compile(r"[A-Z2-7]{16}")


def _format(raw: bytes) -> str:
    text = base64.b32encode(raw).decode()  # 16 characters, A-Z and 2-7
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def normalise(entered: object) -> str | None:
    """Upper-case, without spaces or dashes; None if it cannot be a recovery code."""
    if not isinstance(entered, str) or len(entered) > 64:
        return None
    text = re.sub(r"[\s-]", "", entered).upper()
    # People confuse these; base32 has no 0, 1 or 8.
    text = text.replace("0", "O").replace("1", "I").replace("8", "B")
    return text if _ALPHABET.fullmatch(text) else None


def replace_codes(
    session: Session, *, user_id: str, now: datetime, hasher: KeyedHash, count: int
) -> list[str]:
    """Invalidate every old code and return a fresh set (shown once, never stored)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_format(secrets.token_bytes(CODE_BYTES)) for _ in range(count)]
    session.execute(
        insert(RecoveryCode),
        [
            {
                "user_id": user_id,
                "code_hmac": hasher.digest(code.replace("-", "").encode()),
                "created_at": now,
            }
            for code in codes
        ],
    )
    return codes


def consume(session: Session, *, user_id: str, entered: object, hasher: KeyedHash) -> bool:
    """Use one code: a single DELETE, so two simultaneous uses cannot both succeed."""
    code = normalise(entered)
    if code is None:
        return False
    result = session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hmac.in_(hasher.candidates(code.encode())),
        )
    )
    return getattr(result, "rowcount", 0) >= 1


def remaining(session: Session, *, user_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id)
        ).scalar_one()
    )
