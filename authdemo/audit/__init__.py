"""The audit trail: one explicit call site per event, pseudonymous, append-only."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from authdemo.models import AuditEvent
from authdemo.models.base import table
from authdemo.operations import metrics


class Event(enum.StrEnum):
    SIGN_UP = "account.created"
    ACCOUNT_DELETED = "account.deleted"
    PROFILE_CHANGED = "account.profile_changed"
    SIGN_IN_SUCCEEDED = "sign_in.succeeded"
    SIGN_IN_FAILED = "sign_in.failed"
    STEP_UP_SUCCEEDED = "step_up.succeeded"
    STEP_UP_FAILED = "step_up.failed"
    POSSIBLE_CLONED_PASSKEY = "passkey.possible_clone"
    PASSKEY_ADDED = "passkey.added"
    PASSKEY_RENAMED = "passkey.renamed"
    PASSKEY_REMOVED = "passkey.removed"
    PASSWORD_SET = "password.set"
    PASSWORD_CHANGED = "password.changed"
    TOTP_ENROLLED = "totp.enrolled"
    SECOND_FACTOR_REMOVED = "password_totp.removed"
    RECOVERY_CODES_GENERATED = "recovery_codes.generated"
    RECOVERY_CODE_USED = "recovery_code.used"
    SIGNED_OUT = "session.signed_out"
    SESSION_REVOKED = "session.revoked"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_DECLINED = "consent.declined"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    KILL_SWITCH_STATE = "config.passkey_switches"
    PASSKEY_SWITCH_CHANGED = "config.passkey_switch_changed"
    #: A passkey ceremony the browser cancelled or failed (authdemo/pilot/signals.py):
    #: never linked to an account.
    PASSKEY_CEREMONY_PROBLEM = "passkey.ceremony_problem"
    DATA_EXPORTED = "privacy.exported"
    OPERATOR_EXPORT = "operator.dsar_export"
    OPERATOR_ERASURE = "operator.dsar_erasure"
    OPERATOR_USERS_LISTED = "operator.users_listed"
    OPERATOR_RECOVERY = "operator.recovery_codes_issued"
    RETENTION_PURGED = "retention.purged"


# Every event's /metrics series exists from the first scrape, at zero.
metrics.initialise_events(str(event) for event in Event)

#: Keys allowed in ``details``. Anything else is a programming error: this stops a
#: username, code or key from slipping into the trail by accident.
ALLOWED_DETAIL_KEYS = frozenset(
    {
        "method",
        "reason",
        "passkey_id",
        "session_id",
        "count",
        "remaining",
        "field",
        "purpose",
        "notice_version",
        "enrolment",
        "signin",
        "via",
        "verified_by",
        # runtime switches (authdemo/pilot/switches.py): which switch, and who changed it
        "switch",
        "by",
        "figures",
    }
)


#: Built once: on the hot sign-in path, building a statement per call costs more than
#: running it (make bench --profile). Core table, parameters bound at execution.
_INSERT = insert(table(AuditEvent))


def record(
    session: Session,
    event: Event,
    *,
    now: datetime,
    user_id: str | None = None,
    session_ref: str | None = None,
    **details: Any,
) -> None:
    """Append one audit event (flushed with the caller's transaction, never committed here).

    ``session_ref``: the keyed hash of the signed-in session that caused it
    (``sessions.auth.session_ref``), so that session's security notices leave it out."""
    unexpected = set(details) - ALLOWED_DETAIL_KEYS
    if unexpected:
        raise ValueError(f"audit details not allowed: {sorted(unexpected)}")
    session.execute(
        _INSERT,
        {
            "occurred_at": now,
            "event": str(event),
            "user_ref": user_id,
            "details": details,
            "session_ref": session_ref,
        },
    )
    metrics.observe_event(str(event), details.get("method"), user_id)
