"""Default names for new passkeys that tell a person's passkeys apart (issue 17 item 4).

A passkey is named after its provider when the AAGUID names one ("iCloud Keychain"). An
all-zero or unknown AAGUID (many security keys, some providers, a browser's virtual
authenticator) names nothing, so the name says what the transports do tell ("Security
key", "Passkey on a phone") or just "Passkey", with the day it was made. When the person
already has a passkey of that name, the day is added, and then a number, so no two of
their passkeys share a default name. The person can rename it right after creation.

Nothing here comes from the User-Agent or names the device or its owner: the AAGUID is a
model id, and the transports are what the authenticator reported (WebAuthn L3 §5.2.1.2,
``getTransports()``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from babel import Locale
from babel.dates import format_date
from flask_babel import get_locale
from flask_babel import gettext as _

from authdemo.i18n import SOURCE_LANGUAGE
from authdemo.passkeys.providers import provider_name

#: Transports of an authenticator that is not the device's own and not a phone.
_ROAMING = frozenset({"usb", "nfc", "ble", "smart-card"})


def day(moment: datetime) -> str:
    """The day a passkey was made, as people write it in the request's language ("4 Dec
    2026", "4. Dez. 2026"), in UTC like every date the pages show."""
    # Translators: a CLDR date pattern for the day a passkey was made, as in "Passkey from
    # 4 Dec 2026" (https://unicode.org/reports/tr35/tr35-dates.html). German: "d. MMM y".
    pattern = _("d MMM y")
    return format_date(moment.date(), pattern, locale=get_locale() or Locale(SOURCE_LANGUAGE))


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
        base = provider
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
