"""The pilot cohort: a stable, keyed share of accounts, drawn once per sign-up.

Who is offered passkey enrolment during a pilot is decided by a keyed hash, never by a
personal attribute (no age, place, device or behaviour; GDPR Art 5(1)(c)), and nobody
is refused a way in by it: password + code works for everyone. The subject is the
account's opaque random id, for the whole life of the account: the id is minted when the
username is chosen and kept with the pending sign-up (authdemo/signup/pending.py), and
the account is created with it, by a passkey or by password + code. So the offer at
sign-up, the account pages afterwards, /metrics and ``flask pilot report`` place a
person in the same cohort. HMAC-SHA256 under a key derived from ``DATA_KEY`` for this
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


def bucket(keyed: KeyedHash, account_id: str) -> int:
    """0..9999 for an account id (of an account, or of the pending sign-up creating it)."""
    subject = f"account:{account_id}"
    return int.from_bytes(keyed.digest(subject.encode())[:8], "big") % BUCKETS


def cohort_of(keyed: KeyedHash, percent: int, account_id: str | None) -> Cohort:
    if account_id is None:
        return Cohort.UNKNOWN
    inside = bucket(keyed, account_id) < percent * (BUCKETS // 100)
    return Cohort.PILOT if inside else Cohort.OUTSIDE
