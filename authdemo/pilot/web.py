"""Request-level glue for the rollout: the runtime switches as this app last read them, and
the pilot cohort of whoever this request is about (the signed-in account, or the pending
sign-up in this browser, by the account id it will create the account with)."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from authdemo import clock, current, ways_in
from authdemo.extensions import db
from authdemo.pilot import cohort, switches
from authdemo.pilot.cohort import Cohort
from authdemo.secrets_at_rest import KeyedHash
from authdemo.signup import pending as pending_signup


def runtime_switches() -> switches.SwitchState:
    return switches.cached(
        db.session,
        current_app.extensions,
        now=clock.now(),
        seconds=current.settings().PASSKEY_SWITCH_CACHE_SECONDS,
    )


def cohort_key() -> KeyedHash:
    return current.keyed_hash(cohort.PURPOSE)


def cohort_of_account(user_id: str) -> Cohort:
    return cohort.cohort_of(cohort_key(), current.settings().PASSKEY_PILOT_PERCENT, user_id)


def current_cohort() -> Cohort:
    """The cohort of the signed-in account, else of the pending sign-up (the same draw: the
    account is created with the sign-up's id), else unknown."""
    if current_user.is_authenticated:
        return cohort_of_account(current_user.id)
    pending = pending_signup.current()
    if pending is not None:
        return cohort_of_account(pending.account_id)
    return Cohort.UNKNOWN


def offered_enrolment() -> bool:
    """Whether this request's account or sign-up may create a passkey under the pilot.
    An account that already has a passkey stays in (narrowing disables nothing, and a
    second passkey is the advice for not being locked out). With no one to place (no
    account, no sign-up yet) nothing is enrolled, and the pages say nothing of a pilot."""
    if current.settings().PASSKEY_PILOT_PERCENT >= 100:
        return True
    placed = current_cohort()
    if placed is not Cohort.OUTSIDE:
        return True
    if current_user.is_authenticated:
        return ways_in.methods_of(db.session, current_user.id).passkeys > 0
    return False
