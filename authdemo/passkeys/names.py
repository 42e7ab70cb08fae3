"""Default names for new passkeys that tell a person's passkeys apart (issue 17 item 4).

A passkey is named after its provider when the AAGUID names one ("iCloud Keychain", in
German Apple's own "iCloud-Schlüsselbund"). An
all-zero or unknown AAGUID (many security keys, some providers, a browser's virtual
authenticator) names nothing, so the name says what the transports do tell ("Security
key", "Passkey on a phone") or just "Passkey", with the day it was made. When the person
already has a passkey of that name, the day is added, and then a number, so no two of
their passkeys share a default name. The person can rename it right after creation.
A name is made in the language the person is using then, and stays as it was made.

Nothing here comes from the User-Agent or names the device or its owner: the AAGUID is a
model id, and the transports are what the authenticator reported (WebAuthn L3 §5.2.1.2,
``getTransports()``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

from authdemo.human_units import human_short_date
from authdemo.passkeys.providers import provider_name

#: Transports of an authenticator that is not the device's own and not a phone.
_ROAMING = frozenset({"usb", "nfc", "ble", "smart-card"})


#: Providers whose makers name them differently in other languages; the other names in
#: authdemo/data/passkey_providers.json are the same everywhere ("Windows Hello").
_PROVIDER_NAMES: dict[str, LazyString] = {
    # Translators: Apple's own name for it in your language (German: iCloud-Schlüsselbund).
    "iCloud Keychain": lazy_gettext("iCloud Keychain"),
    # Translators: Apple's iCloud Keychain, managed by an organisation (German:
    # iCloud-Schlüsselbund (verwaltet)).
    "iCloud Keychain (Managed)": lazy_gettext("iCloud Keychain (Managed)"),
    # Translators: Google's own name for it in your language (German: Google Passwortmanager).
    "Google Password Manager": lazy_gettext("Google Password Manager"),
}


def day(moment: datetime) -> str:
    """The day a passkey was made, as people write it in the request's language ("4 Dec
    2026", "4. Dez. 2026"), in UTC like every date the pages show."""
    return human_short_date(moment.date())


def _kind(transports: Iterable[str]) -> str | None:
    reported = set(transports)
    if "hybrid" in reported and "internal" not in reported:
        return str(_("Passkey on a phone"))
    if reported and reported <= _ROAMING:
        return str(_("Security key"))
    return None


def _dated(base: str, created_at: datetime) -> str:
    # Translators: a passkey's default name: its kind or provider and the day it was made,
    # "Passkey from 4 Dec 2026", "iCloud Keychain from 4 Dec 2026".
    return str(_("%(name)s from %(day)s", name=base, day=day(created_at)))


def default_name(
    *, aaguid: str, transports: Iterable[str], created_at: datetime, taken: Collection[str]
) -> str:
    """A name for a new passkey that none of ``taken`` (the person's passkey names) has."""
    provider = provider_name(aaguid)
    if provider is not None:
        base = str(_PROVIDER_NAMES.get(provider, provider))
    else:
        base = _dated(_kind(transports) or _("Passkey"), created_at)
    if base not in taken:
        return base
    dated = base if provider is None else _dated(base, created_at)
    if dated not in taken:
        return dated
    number = 2
    while f"{dated} ({number})" in taken:
        number += 1
    return f"{dated} ({number})"
