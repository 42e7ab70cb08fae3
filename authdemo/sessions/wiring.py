"""The session policy of the running app, for the sign-in use cases (see
authdemo/passkeys/wiring.py for why this lives beside its feature)."""

from __future__ import annotations

from datetime import timedelta

from authdemo import current
from authdemo.sessions.service import SessionPolicy


def session_policy() -> SessionPolicy:
    s = current.settings()
    return SessionPolicy(
        idle=timedelta(seconds=s.SESSION_IDLE_SECONDS),
        absolute=timedelta(seconds=s.SESSION_ABSOLUTE_SECONDS),
    )
