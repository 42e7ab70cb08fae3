"""The passkey feature's collaborators, built from the running app's settings.

Routes and CLI commands call these and hand the result to ``passkeys.service``, which
takes them explicitly and knows nothing of Flask. ``authdemo.current`` keeps only what
every feature shares (settings, keys, the Redis client), so it ties no feature to another.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from authdemo import current
from authdemo.passkeys import ceremonies
from authdemo.passkeys.service import RelyingParty

#: The running app's relying party, built on first use (its settings never change).
_RELYING_PARTY = "authdemo.passkeys.relying_party"


def relying_party() -> RelyingParty:
    """What every ceremony expects, from the running app's settings: built once per app
    (immutable, like the settings it is made of), not once per request."""
    built: RelyingParty | None = current_app.extensions.get(_RELYING_PARTY)
    if built is None:
        built = current_app.extensions[_RELYING_PARTY] = _build()
    return built


def _build() -> RelyingParty:
    s = current.settings()
    origins = [s.ORIGIN, *s.related_origins]
    return RelyingParty(
        id=s.RP_ID,
        name=s.RP_NAME,
        origin=origins if len(origins) > 1 else s.ORIGIN,
        algorithms=s.ALGORITHMS,
        ceremony_lifetime=timedelta(seconds=s.CEREMONY_TIMEOUT_SECONDS),
        # Derived from the data key (DATA_KEY_PREVIOUS too, so rotation keeps ceremonies
        # in flight working): never the key that signs the cookie it travels in.
        ceremony_box=current.secret_box(ceremonies.PURPOSE),
    )
