"""Request-time accessors for what every feature shares: the running app's settings, the
keys derived from its data key, and its Redis client.

Nothing here imports a feature package: each feature builds its own collaborators beside
it (``passkeys/wiring.py``, ``fallback/wiring.py``, ``sessions/wiring.py``), so importing
one feature never drags in the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from authdemo.config import Settings
from authdemo.secrets_at_rest import KeyedHash, SecretBox

if TYPE_CHECKING:
    from redis import Redis


def settings() -> Settings:
    value: Settings = current_app.extensions["authdemo.settings"]
    return value


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


def _master_keys() -> tuple[bytes, ...]:
    s = settings()
    return (s.data_key_bytes, *s.previous_data_keys)


def secret_box(purpose: str) -> SecretBox:
    """Authenticated encryption for secrets at rest (e.g. purpose "totp-secret")."""
    return SecretBox.from_master_keys(_master_keys(), purpose)


def keyed_hash(purpose: str) -> KeyedHash:
    """HMAC-SHA256 for one purpose ("recovery-code", "pseudonym", "limiter-key")."""
    return KeyedHash.from_master_keys(_master_keys(), purpose)
