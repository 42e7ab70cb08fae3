"""The pilot cohort: a stable, keyed share of accounts and pending sign-ups.

Who is offered passkey enrolment during a pilot is decided by a keyed hash, never by a
personal attribute (no age, place, device or behaviour; GDPR Art 5(1)(c)), and nobody
is refused a way in by it: password + code works for everyone. The
subject is the account's opaque id, or, before the account exists, the normalised
username being signed up. HMAC-SHA256 under a key derived from ``DATA_KEY`` for this
purpose (docs/decisions/0003-secrets-at-rest.md) maps it to a bucket 0..9999; the subject
is in the pilot when ``bucket < PASSKEY_PILOT_PERCENT * 100``. Widening the percentage
keeps every bucket already in; narrowing it only stops new enrolments outside it (nothing
is disabled: passkeys people already have keep working). Rotating ``DATA_KEY`` redraws
the buckets (docs/rollout.md says to widen to 100 % first).
"""

from __future__ import annotations

import enum

from authdemo.secrets_at_rest import KeyedHash

#: Key-derivation purpose (authdemo.current.keyed_hash).
PURPOSE = "pilot-cohort"
BUCKETS = 10_000


class Cohort(enum.StrEnum):
    PILOT = "pilot"
    OUTSIDE = "outside"
    #: No account or pending sign-up to place (an attempt naming an unknown account).
    UNKNOWN = "unknown"


def bucket(keyed: KeyedHash, *, account_id: str | None = None, username: str | None = None) -> int:
    """0..9999 for an account (by id) or a pending sign-up (by normalised username)."""
    if account_id is not None:
        subject = f"account:{account_id}"
    elif username is not None:
        subject = f"sign-up:{username}"
    else:
        raise ValueError("give account_id or username")
    return int.from_bytes(keyed.digest(subject.encode())[:8], "big") % BUCKETS


def cohort_of(
    keyed: KeyedHash, percent: int, *, account_id: str | None = None, username: str | None = None
) -> Cohort:
    if account_id is None and username is None:
        return Cohort.UNKNOWN
    inside = bucket(keyed, account_id=account_id, username=username) < percent * (BUCKETS // 100)
    return Cohort.PILOT if inside else Cohort.OUTSIDE
