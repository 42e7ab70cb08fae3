"""Runtime passkey switches: a small table every worker and instance reads, with a short cache.

The table (``runtime_switches``) is the source of truth; each app keeps its copy for at
most ``PASSKEY_SWITCH_CACHE_SECONDS``, so a change made by ``flask passkeys pause|resume``
or by the guardrail evaluator reaches every worker of every instance on the same database
within that many seconds (tests/functional/test_runtime_switches.py proves it with two app
instances on one database). The environment's ``PASSKEY_ENROLMENT_ENABLED`` and
``PASSKEY_SIGNIN_ENABLED`` stay the start-up defaults: a switch is on only where the
environment *and* the table say on, so a switch turned off at deployment cannot be turned
on from the command line (it fails closed). Every change is audited with who and why
(OWASP ASVS 5.0, security logging; docs/decisions/0022-pilot-and-guardrails.md).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from authdemo import audit
from authdemo.audit import Event
from authdemo.config import Settings
from authdemo.models import RuntimeSwitch

#: The cache lives on the app (one per app instance, shared by its threads).
log = logging.getLogger(__name__)
CACHE_EXTENSION = "authdemo.runtime_switches"
REASON_MAX = 200


class Switch(enum.StrEnum):
    ENROLMENT = "passkey_enrolment"
    SIGNIN = "passkey_signin"


@dataclass(frozen=True, slots=True)
class SwitchState:
    """What the table says (None: never set at runtime, the environment decides)."""

    enrolment: bool | None = None
    signin: bool | None = None

    def effective(self, settings: Settings) -> tuple[bool, bool]:
        """(enrolment, sign-in): on only where the environment and the table both say on."""
        return (
            settings.PASSKEY_ENROLMENT_ENABLED and self.enrolment is not False,
            settings.PASSKEY_SIGNIN_ENABLED and self.signin is not False,
        )


@dataclass(slots=True)
class SwitchCache:
    state: SwitchState
    fresh_until: datetime


def read(session: Session) -> SwitchState:
    query = select(RuntimeSwitch.name, RuntimeSwitch.enabled)
    rows: dict[str, bool] = {row.name: row.enabled for row in session.execute(query).all()}
    return SwitchState(enrolment=rows.get(Switch.ENROLMENT), signin=rows.get(Switch.SIGNIN))


def cached(
    session: Session, extensions: dict[str, Any], *, now: datetime, seconds: int
) -> SwitchState:
    """The switches as this app last read them, read again once ``seconds`` have passed."""
    entry: SwitchCache | None = extensions.get(CACHE_EXTENSION)
    if (
        entry is None
        or now >= entry.fresh_until
        or now < entry.fresh_until - timedelta(seconds=seconds)
    ):
        try:
            with session.begin_nested():  # a failed read leaves the request's transaction usable
                state = read(session)
        except DBAPIError:
            # The database cannot be read (down, or not migrated yet): the start-up
            # switches apply, and the next request tries again. No passkey ceremony can
            # finish without the database anyway, so this opens nothing.
            log.warning("runtime switches unreadable; using the start-up switches")
            return SwitchState()
        entry = SwitchCache(state, now + timedelta(seconds=seconds))
        extensions[CACHE_EXTENSION] = entry
    return entry.state


def forget(extensions: dict[str, Any]) -> None:
    """Drop this app's copy (after it changed a switch itself: it need not wait)."""
    extensions.pop(CACHE_EXTENSION, None)


class BadReason(ValueError):
    """The reason is empty or too long for the trail."""


def change(
    session: Session,
    switch: Switch,
    *,
    enabled: bool,
    reason: str,
    by: str,
    now: datetime,
    figures: dict[str, Any] | None = None,
) -> bool:
    """Set ``switch`` and audit it; False (and nothing written) when it already had that
    value. One use case: the caller commits. ``by`` is "operator" or "guardrail:<name>";
    ``figures`` are what a guardrail saw (no personal data: counts and rates)."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise BadReason(f"give a reason of 1 to {REASON_MAX} characters")
    row = session.get(RuntimeSwitch, str(switch))
    if row is not None and row.enabled == enabled:
        return False
    if row is None:
        row = RuntimeSwitch(name=str(switch))
        session.add(row)
    row.enabled, row.reason, row.changed_by, row.changed_at = enabled, reason, by, now
    session.flush()
    details: dict[str, Any] = {"switch": str(switch), "by": by, "reason": reason}
    details["enrolment" if switch is Switch.ENROLMENT else "signin"] = enabled
    if figures is not None:
        details["figures"] = figures
    audit.record(session, Event.PASSKEY_SWITCH_CHANGED, now=now, **details)
    return True


def describe(settings: Settings, state: SwitchState) -> dict[str, str]:
    """For the CLI: each switch's effective state and where it comes from."""

    def one(env: bool, table: bool | None, env_name: str) -> str:
        if not env:
            return f"off (AUTHDEMO_{env_name}=false at start-up)"
        return "off (paused at runtime)" if table is False else "on"

    return {
        "enrolment": one(
            settings.PASSKEY_ENROLMENT_ENABLED, state.enrolment, "PASSKEY_ENROLMENT_ENABLED"
        ),
        "sign-in": one(settings.PASSKEY_SIGNIN_ENABLED, state.signin, "PASSKEY_SIGNIN_ENABLED"),
    }
