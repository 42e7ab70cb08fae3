"""Kill switches and jurisdiction rollout: where and whether passkeys are offered.

Two switches (``PASSKEY_ENROLMENT_ENABLED``, ``PASSKEY_SIGNIN_ENABLED``) turn passkeys off
for everyone; ``PASSKEY_JURISDICTIONS`` limits them to the places the operator allows. The
place is the deployment's ``JURISDICTION``, or the country a trusted proxy puts in
``COUNTRY_HEADER`` (the app never geolocates IP addresses). When the list is set and the
place is unknown, passkeys are off: rollout fails closed. Password + one-time code is
never affected, so nobody is locked out by a switch who has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from authdemo import audit, jurisdictions
from authdemo.audit import Event
from authdemo.config import Settings
from authdemo.models import AuditEvent

#: Groups an operator may list instead of single countries (ISO 3166-1 alpha-2); the EU's
#: members come from a committed data file (authdemo/jurisdictions.py).
GROUPS: Mapping[str, frozenset[str]] = jurisdictions.groups()
EU = GROUPS["EU"]


def N_(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts ``N_``) and leaves it English:
    the constants below stay the source text tests and callers compare with; the
    reasons are translated where an Availability is made, in the request's language."""
    return message


SWITCHED_OFF = N_(
    "Passkeys are switched off on this service for now. Your password and one-time code still work."
)
ENROLMENT_OFF = N_(
    "New passkeys can't be created on this service for now. "
    "Passkeys you already have still work, and so does a password with a one-time code."
)
SIGNIN_OFF = N_(
    "Signing in with a passkey is switched off on this service for now. "
    "Please use your password and one-time code, or a recovery code."
)
NOT_IN_PILOT = N_(
    "Passkeys are being introduced step by step and aren't offered to you yet. Sign up and "
    "sign in with a password and a one-time code; the option will appear in your account "
    "when it's your turn."
)
NOT_HERE = N_(
    "Passkeys aren't offered where you are yet. A password with a one-time code opens your "
    "account just the same: type them only on this site's address."
)


@dataclass(frozen=True, slots=True)
class Availability:
    """What this request may do with passkeys, and why not, in plain language."""

    enrolment: bool
    signin: bool
    enrolment_reason: str | None = None
    signin_reason: str | None = None

    @property
    def any(self) -> bool:
        return self.enrolment or self.signin


parse_places = jurisdictions.parse_places


def place_of(settings: Settings, country: str | None) -> str:
    """``country``: the value of ``COUNTRY_HEADER`` set by the trusted proxy (None when
    the header is not configured or absent); else the deployment's jurisdiction. A
    malformed value counts as unknown ("")."""
    if settings.COUNTRY_HEADER and country is not None:
        value = country.strip().upper()
        return value if jurisdictions.PLACE.fullmatch(value) else ""
    return settings.JURISDICTION.strip().upper()


def allowed_in(place: str, allowed: frozenset[str]) -> bool:
    """An empty list allows everywhere. "US" allows "US-IL"; "EU" allows "DE"."""
    if not allowed:
        return True
    if not place:
        return False
    country = place.split("-")[0]
    candidates = {place, country} | {name for name, members in GROUPS.items() if country in members}
    return bool(candidates & allowed)


def availability(
    settings: Settings,
    *,
    country: str | None = None,
    switches: tuple[bool, bool] | None = None,
    in_pilot: bool = True,
) -> Availability:
    """``switches``: (enrolment, sign-in) as the runtime switches leave them
    (authdemo.pilot.switches; the environment's alone when None). ``in_pilot``: this
    account or pending sign-up is in the pilot cohort (authdemo.pilot.cohort); outside it
    enrolment is not offered, and nothing else changes."""
    if not allowed_in(place_of(settings, country), parse_places(settings.PASSKEY_JURISDICTIONS)):
        return Availability(False, False, _(NOT_HERE), _(NOT_HERE))
    if switches is None:
        switches = (settings.PASSKEY_ENROLMENT_ENABLED, settings.PASSKEY_SIGNIN_ENABLED)
    enrolment, signin = switches
    if not enrolment and not signin:
        return Availability(False, False, _(SWITCHED_OFF), _(SWITCHED_OFF))
    if enrolment and not in_pilot:
        return Availability(False, signin, _(NOT_IN_PILOT), None if signin else _(SIGNIN_OFF))
    return Availability(
        enrolment,
        signin,
        None if enrolment else _(ENROLMENT_OFF),
        None if signin else _(SIGNIN_OFF),
    )


# --- start-up record in the audit trail ------------------------------------------------


def switch_state(settings: Settings) -> dict[str, Any]:
    """The deployment-wide state, as audit details (no personal data)."""
    places = ",".join(sorted(parse_places(settings.PASSKEY_JURISDICTIONS))) or "*"
    where = settings.JURISDICTION.strip().upper() or "-"
    header = settings.COUNTRY_HEADER or "-"
    return {
        "enrolment": settings.PASSKEY_ENROLMENT_ENABLED,
        "signin": settings.PASSKEY_SIGNIN_ENABLED,
        "reason": f"jurisdiction={where}; allowed={places}; country_header={header}",
    }


def record_switch_state(session: Session, settings: Settings, *, now: datetime) -> bool:
    """Append the kill-switch state to the audit trail if it differs from the last one
    recorded (so the trail shows when passkeys were switched off and on). Flushes only."""
    state = switch_state(settings)
    last = session.execute(
        select(AuditEvent.details)
        .where(AuditEvent.event == str(Event.KILL_SWITCH_STATE))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last == state:
        return False
    audit.record(session, Event.KILL_SWITCH_STATE, now=now, **state)
    return True
