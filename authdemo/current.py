"""Request-time accessors for the running app's settings and derived policies."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app

from authdemo.config import Settings
from authdemo.fallback.passwords import Hasher, PasswordPolicy
from authdemo.fallback.service import Fallback
from authdemo.passkeys import ceremonies
from authdemo.passkeys.service import RelyingParty
from authdemo.secrets_at_rest import KeyedHash, SecretBox

if TYPE_CHECKING:
    from redis import Redis
from authdemo.sessions.service import SessionPolicy


def settings() -> Settings:
    value: Settings = current_app.extensions["authdemo.settings"]
    return value


def relying_party() -> RelyingParty:
    s = settings()
    origins = [s.ORIGIN, *s.related_origins]
    return RelyingParty(
        id=s.RP_ID,
        name=s.RP_NAME,
        origin=origins if len(origins) > 1 else s.ORIGIN,
        algorithms=s.ALGORITHMS,
        ceremony_lifetime=timedelta(seconds=s.CEREMONY_TIMEOUT_SECONDS),
        store=ceremony_store(),
    )


def redis_client() -> Redis | None:
    """One Redis client (connection pool) per app, or None when Redis is not configured."""
    s = settings()
    if not s.REDIS_URL:
        return None
    client: Redis | None = current_app.extensions.get("authdemo.redis")
    if client is None:
        from redis import Redis

        client = Redis.from_url(s.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        current_app.extensions["authdemo.redis"] = client
    return client


def ceremony_store() -> ceremonies.CeremonyStore:
    if settings().CEREMONY_STORE == "redis":
        client = redis_client()
        assert client is not None  # config validation requires REDIS_URL
        return ceremonies.RedisStore(client)
    return _DATABASE_STORE


_DATABASE_STORE = ceremonies.DatabaseStore()


def session_policy() -> SessionPolicy:
    s = settings()
    return SessionPolicy(
        idle=timedelta(seconds=s.SESSION_IDLE_SECONDS),
        absolute=timedelta(seconds=s.SESSION_ABSOLUTE_SECONDS),
    )


def _master_keys() -> tuple[bytes, ...]:
    s = settings()
    return (s.data_key_bytes, *s.previous_data_keys)


def secret_box(purpose: str) -> SecretBox:
    """Authenticated encryption for secrets at rest (e.g. purpose "totp-secret")."""
    return SecretBox.from_master_keys(_master_keys(), purpose)


def keyed_hash(purpose: str) -> KeyedHash:
    """HMAC-SHA256 for one purpose ("recovery-code", "pseudonym", "limiter-key")."""
    return KeyedHash.from_master_keys(_master_keys(), purpose)


def fallback() -> Fallback:
    """Password + code collaborators, built once per app (the hasher precomputes a hash)."""
    cached: Fallback | None = current_app.extensions.get("authdemo.fallback")
    if cached is None:
        s = settings()
        cached = Fallback(
            policy=PasswordPolicy(s.PASSWORD_MIN_LENGTH, s.PASSWORD_MAX_LENGTH),
            hasher=Hasher(
                memory_kib=s.ARGON2_MEMORY_KIB,
                time_cost=s.ARGON2_TIME_COST,
                parallelism=s.ARGON2_PARALLELISM,
            ),
            totp_box=secret_box("totp-secret"),
            recovery_hash=keyed_hash("recovery-code"),
            recovery_count=s.RECOVERY_CODE_COUNT,
            totp_window=s.TOTP_VALID_WINDOW,
            enrolment_lifetime=timedelta(seconds=s.ENROLMENT_TIMEOUT_SECONDS),
        )
        current_app.extensions["authdemo.fallback"] = cached
    return cached
