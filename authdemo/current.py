"""Request-time accessors for what every feature shares: the running app's settings, the
keys derived from its data key, and its Redis client.

Nothing here imports a feature package: each feature builds its own collaborators beside
it (``passkeys/wiring.py``, ``fallback/wiring.py``, ``sessions/wiring.py``), so importing
one feature never drags in the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

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


#: Keys derived from the data keys, per kind and purpose, once per app (see ``_derived``).
_DERIVED = "authdemo.derived_keys"
_Derived = TypeVar("_Derived", SecretBox, KeyedHash)


def _derived(kind: type[_Derived], purpose: str) -> _Derived:
    """``kind`` for ``purpose``, derived once per app: HKDF is deterministic and an app's
    settings never change after ``create_app``, so deriving again on every request (the
    passkey ceremony's box twice per sign-in, the pilot cohort's hash once) only cost time
    (make bench --profile)."""
    cache: dict[tuple[type, str], Any] = current_app.extensions.setdefault(_DERIVED, {})
    found: _Derived | None = cache.get((kind, purpose))
    if found is None:
        configured: Settings = settings()
        masters = (configured.data_key_bytes, *configured.previous_data_keys)
        found = kind.from_master_keys(masters, purpose)
        cache[kind, purpose] = found
    return found


def secret_box(purpose: str) -> SecretBox:
    """Authenticated encryption for secrets at rest (e.g. purpose "totp-secret")."""
    return _derived(SecretBox, purpose)


def keyed_hash(purpose: str) -> KeyedHash:
    """HMAC-SHA256 for one purpose ("recovery-code", "pseudonym", "limiter-key")."""
    return _derived(KeyedHash, purpose)
