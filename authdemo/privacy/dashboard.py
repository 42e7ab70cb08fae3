"""The privacy dashboard's view of a person: everything held about them, in plain words.

The queries follow :data:`authdemo.privacy.service.ROWS_ABOUT`, like the export and
erasure. Only the audit trail is cut short here (the latest events and a count); the
download has all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authdemo.audit import Event
from authdemo.models import (
    AuditEvent,
    Complaint,
    ConsentEvent,
    Passkey,
    PasswordCredential,
    TotpCredential,
    User,
    UserSession,
)
from authdemo.passkeys.providers import provider_name
from authdemo.privacy import service
from authdemo.privacy.service import Person

RECENT_EVENTS = 50

#: Audit events as a person would say them (GDPR Art 12(1): clear and plain language).
EVENT_LABELS: dict[str, str] = {
    Event.SIGN_UP: "You created your account",
    Event.ACCOUNT_DELETED: "The account was deleted",
    Event.PROFILE_CHANGED: "You changed your name details",
    Event.SIGN_IN_SUCCEEDED: "You signed in",
    Event.SIGN_IN_FAILED: "A sign-in to your account failed",
    Event.STEP_UP_SUCCEEDED: "You confirmed it was you",
    Event.STEP_UP_FAILED: "A check that it was you failed",
    Event.POSSIBLE_CLONED_PASSKEY: "A passkey was refused because it may have been copied",
    Event.PASSKEY_ADDED: "You added a passkey",
    Event.PASSKEY_RENAMED: "You renamed a passkey",
    Event.PASSKEY_REMOVED: "A passkey was removed",
    Event.PASSWORD_SET: "You set a password",
    Event.PASSWORD_CHANGED: "You changed your password",
    Event.TOTP_ENROLLED: "You set up an authenticator app",
    Event.SECOND_FACTOR_REMOVED: "You removed your password and authenticator app",
    Event.RECOVERY_CODES_GENERATED: "New recovery codes were made",
    Event.RECOVERY_CODE_USED: "A recovery code was used",
    Event.SIGNED_OUT: "You signed out",
    Event.SESSION_REVOKED: "A signed-in session was ended",
    Event.CONSENT_GRANTED: "You agreed to passkey sign-in",
    Event.CONSENT_DECLINED: "You said no thanks to passkeys",
    Event.CONSENT_WITHDRAWN: "You withdrew your agreement to passkey sign-in",
    Event.KILL_SWITCH_STATE: "Passkey settings of the service changed",
    Event.DATA_EXPORTED: "You downloaded your data",
    Event.OPERATOR_EXPORT: "Our staff exported your data at your request",
    Event.OPERATOR_ERASURE: "Our staff deleted the account at your request",
}

METHOD_LABELS = {
    "passkey": "with a passkey",
    "password_totp": "with your password and a code",
    "recovery_code": "with a recovery code",
}

CONSENT_LABELS = {
    "granted": "You agreed",
    "declined": "You said no thanks",
    "withdrawn": "You withdrew",
}


def describe_event(event: str, details: dict[str, Any] | None = None) -> str:
    text = EVENT_LABELS.get(event, event)
    method = (details or {}).get("method")
    if isinstance(method, str) and method in METHOD_LABELS:
        text = f"{text} {METHOD_LABELS[method]}"
    return text


@dataclass(frozen=True, slots=True)
class PasskeyView:
    passkey: Passkey
    provider: str | None
    algorithm: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    user: User
    passkeys: list[PasskeyView]
    password: PasswordCredential | None
    authenticator_app: TotpCredential | None
    recovery_codes_left: int
    sessions: list[UserSession]
    consent_events: list[ConsentEvent]
    recent_events: list[AuditEvent]
    audit_event_count: int
    requests_in_progress: int
    #: What the person sent with "Report a problem" while signed in (authdemo/pilot).
    problem_reports: list[Complaint]


def dashboard(session: Session, person: Person, *, recent: int = RECENT_EVENTS) -> Dashboard:
    user = session.get(User, person.id)
    if user is None:
        raise service.UnknownAccount()
    passkeys = session.scalars(
        select(Passkey).where(Passkey.user_id == person.id).order_by(Passkey.created_at)
    ).all()
    audit_count = service.count_about(session, person, "audit_events")
    return Dashboard(
        user=user,
        passkeys=[
            PasskeyView(
                p,
                provider_name(p.aaguid),
                service.ALGORITHM_NAMES.get(p.algorithm, str(p.algorithm)),
            )
            for p in passkeys
        ],
        password=session.get(PasswordCredential, person.id),
        authenticator_app=session.get(TotpCredential, person.id),
        recovery_codes_left=service.count_about(session, person, "recovery_codes"),
        sessions=list(
            session.scalars(
                select(UserSession)
                .where(UserSession.user_id == person.id)
                .order_by(UserSession.last_seen_at.desc())
            )
        ),
        consent_events=list(
            session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.user_ref == person.id)
                .order_by(ConsentEvent.id.desc())
            )
        ),
        recent_events=list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.user_ref == person.id)
                .order_by(AuditEvent.id.desc())
                .limit(recent)
            )
        ),
        audit_event_count=audit_count,
        requests_in_progress=service.count_about(session, person, "enrolments"),
        problem_reports=list(
            session.scalars(
                select(Complaint).where(Complaint.user_id == person.id).order_by(Complaint.id)
            )
        ),
    )


def total_rows(session: Session, person: Person) -> int:
    """How many rows are about the person, over every table (shown before deletion)."""
    return sum(service.count_about(session, person, table) for table in service.ROWS_ABOUT)
