"""Rate-limit keys and storage (Flask-Limiter over ``limits``).

Client addresses: the limiter counts per address but never stores one. Its key is
``addr:`` and the first 128 bits of an HMAC-SHA256 of the address, under a subkey of the
data key for this purpose alone ("limiter-address"), so the limiter storage (Redis in
production) holds no raw address, in any notation. Whoever holds the data key can still
test a guessed address against a key, so the keys are pseudonymous data (GDPR Recital 26),
kept only until the longest window of the limits that count them has passed
(:func:`address_retention_seconds`). See docs/decisions/0015-limits-as-shipped.md.

What is counted is the *network* a client controls, not each address: an IPv6 client is
usually given a whole /64 and can pick a new address in it for every request, so IPv6
addresses are counted by their /64 (:func:`counted_network`); an IPv4 address (and an
IPv4-mapped IPv6 one) by itself.

Storage: the default ``memory-lazy://`` counts in each process. With several server
processes every one would keep its own counters and each would allow the whole budget,
so :func:`check_worker_storage` refuses that combination when the server starts
(deploy/serve.py). One process alone may count in memory, in production too;
several instances cannot see each other, so they must be given one shared store
(docs/deployment.md, decision 0015).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from authdemo.config import ENV_PREFIX, Settings
from authdemo.secrets_at_rest import KeyedHash

ADDRESS_PURPOSE = "limiter-address"
#: The prefix an IPv6 client is assumed to control (RFC 6177 and RFC 7421: a /64 per
#: end site at least), so it is counted as one client.
IPV6_COUNTED_PREFIX = 64
#: Storage schemes whose counters every process and instance shares.
SHARED_SCHEMES = ("redis", "rediss", "redis+sentinel", "redis+cluster", "valkey", "memcached")
#: The limits counted per client address (the others are counted per account).
ADDRESS_LIMITS = (
    "RATELIMIT_CEREMONY",
    "RATELIMIT_SIGNUP",
    "RATELIMIT_PASSWORD_IP",
    "RATELIMIT_COMPLAINT",
    "RATELIMIT_CEREMONY_PROBLEM",
)
_CACHE = "authdemo.limiter_address_hash"


class StorageNotShared(RuntimeError):
    """A per-process limiter store with more than one server process."""


def address_key() -> str:
    """The limiter key of this request's client address: a keyed hash, never the address."""
    return address_key_for(get_remote_address() or "")


def counted_network(address: str) -> str:
    """What the per-address limits count for ``address``: an IPv4 address itself, an IPv6
    address's /64 network (an IPv4-mapped IPv6 address counts as its IPv4 address). A
    value that is not an address (a misconfigured proxy header) is counted as given."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_COUNTED_PREFIX), strict=False))
    return str(parsed)


def address_key_for(address: str) -> str:
    hasher: KeyedHash | None = current_app.extensions.get(_CACHE)
    if hasher is None:
        settings = current_app.extensions["authdemo.settings"]
        # The current data key only: after a rotation, counting starts again (harmless).
        hasher = KeyedHash.from_master_keys((settings.data_key_bytes,), ADDRESS_PURPOSE)
        current_app.extensions[_CACHE] = hasher
    return "addr:" + hasher.digest(counted_network(address).encode()).hex()[:32]


def address_retention_seconds(settings: object) -> int:
    """How long the limiter keeps an address's key at most: the longest window of the
    limits counted per address (a moving window expires with its last hit)."""
    windows = [
        item.get_expiry()
        for name in ADDRESS_LIMITS
        for item in parse_many(str(getattr(settings, name)))
    ]
    return max(windows)


def is_shared(storage_uri: str) -> bool:
    scheme = storage_uri.partition("://")[0].lower()
    return scheme in SHARED_SCHEMES


def check_worker_storage(storage_uri: str, workers: int) -> None:
    """Refuse a per-process limiter store when more than one process serves requests."""
    if workers > 1 and not is_shared(storage_uri):
        raise StorageNotShared(
            f"{workers} workers with the per-process rate-limit store {storage_uri!r} would "
            "each count separately and together allow several times every stated limit. "
            "Set AUTHDEMO_RATELIMIT_STORAGE_URI=redis://HOST:6379/N (shared by every "
            "worker and instance), or run one worker with AUTHDEMO_WORKERS=1."
        )


def check_server_environment(environ: Mapping[str, str], workers: int) -> None:
    """:func:`check_worker_storage` for a server configured by ``AUTHDEMO_*`` variables
    (called by deploy/serve.py with the worker count it will start)."""
    enabled = environ.get(ENV_PREFIX + "RATELIMIT_ENABLED", "true").strip().lower()
    if enabled in {"0", "false", "no", "off"}:
        return
    default = _default("RATELIMIT_STORAGE_URI")
    check_worker_storage(environ.get(ENV_PREFIX + "RATELIMIT_STORAGE_URI", default), workers)


def _default(name: str) -> str:
    field = next(f for f in dataclasses.fields(Settings) if f.name == name)
    return str(field.default)


def check_limits_in_views_only(app: Flask, limiter: Limiter) -> None:
    """Drop Flask-Limiter's own ``before_request`` check when it has nothing to check.

    Flask-Limiter checks each request twice: in a hook of its own, for default,
    application, blueprint and meta limits, and in the decorator of each limited view, for
    that view's limits. Every limit of this app sits on its view, so the hook resolved and
    evaluated an empty list on every request, about 45 us each (``make bench --profile``).
    Called once the blueprints are registered; any limit the hook would check keeps it.
    """
    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or any(manager.blueprint_limits(app, name) for name in app.blueprints)
        or getattr(limiter, "_meta_limits", None)
    ):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
