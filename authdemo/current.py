"""Request-time accessors for the running app's settings and derived policies."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from authdemo.config import Settings
from authdemo.passkeys.service import RelyingParty
from authdemo.sessions.service import SessionPolicy


def settings() -> Settings:
    value: Settings = current_app.extensions["authdemo.settings"]
    return value


def relying_party() -> RelyingParty:
    s = settings()
    return RelyingParty(
        id=s.RP_ID,
        name=s.RP_NAME,
        origin=s.ORIGIN,
        algorithms=s.ALGORITHMS,
        ceremony_lifetime=timedelta(seconds=s.CEREMONY_TIMEOUT_SECONDS),
    )


def session_policy() -> SessionPolicy:
    s = settings()
    return SessionPolicy(
        idle=timedelta(seconds=s.SESSION_IDLE_SECONDS),
        absolute=timedelta(seconds=s.SESSION_ABSOLUTE_SECONDS),
    )
