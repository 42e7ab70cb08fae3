"""The password + code feature's collaborators, built once per app from its settings.

Routes and CLI commands call ``fallback()`` and hand the result to ``fallback.service``,
which takes it explicitly and knows nothing of Flask (see authdemo/passkeys/wiring.py).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from authdemo import current
from authdemo.fallback.passwords import Hasher, PasswordPolicy
from authdemo.fallback.service import Fallback


def fallback() -> Fallback:
    """Password + code collaborators, built once per app (the hasher precomputes a hash)."""
    cached: Fallback | None = current_app.extensions.get("authdemo.fallback")
    if cached is None:
        s = current.settings()
        cached = Fallback(
            policy=PasswordPolicy(s.PASSWORD_MIN_LENGTH, s.PASSWORD_MAX_LENGTH),
            hasher=Hasher(
                memory_kib=s.ARGON2_MEMORY_KIB,
                time_cost=s.ARGON2_TIME_COST,
                parallelism=s.ARGON2_PARALLELISM,
            ),
            totp_box=current.secret_box("totp-secret"),
            recovery_hash=current.keyed_hash("recovery-code"),
            recovery_count=s.RECOVERY_CODE_COUNT,
            totp_window=s.TOTP_VALID_WINDOW,
            enrolment_lifetime=timedelta(seconds=s.ENROLMENT_TIMEOUT_SECONDS),
        )
        current_app.extensions["authdemo.fallback"] = cached
    return cached
