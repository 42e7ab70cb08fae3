"""The privacy dashboard's view of a person: everything held about them, in plain words.

The queries follow :data:`authdemo.privacy.service.ROWS_ABOUT`, like the export and
erasure. Only the audit trail is cut short here (the latest events and a count); the
download has all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
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
EVENT_LABELS: dict[str, Any] = {
    Event.SIGN_UP: lazy_gettext("You created your account"),
    Event.ACCOUNT_DELETED: lazy_gettext("The account was deleted"),
    Event.PROFILE_CHANGED: lazy_gettext("You changed your name details"),
    Event.SIGN_IN_SUCCEEDED: lazy_gettext("You signed in"),
    Event.SIGN_IN_FAILED: lazy_gettext("A sign-in to your account failed"),
    Event.STEP_UP_SUCCEEDED: lazy_gettext("You confirmed it was you"),
    Event.STEP_UP_FAILED: lazy_gettext("A check that it was you failed"),
    Event.POSSIBLE_CLONED_PASSKEY: lazy_gettext(
        "A passkey was refused because it may have been copied"
    ),
    Event.PASSKEY_ADDED: lazy_gettext("You added a passkey"),
    Event.PASSKEY_RENAMED: lazy_gettext("You renamed a passkey"),
    Event.PASSKEY_REMOVED: lazy_gettext("A passkey was removed"),
    Event.PASSWORD_SET: lazy_gettext("You set a password"),
    Event.PASSWORD_CHANGED: lazy_gettext("You changed your password"),
    Event.TOTP_ENROLLED: lazy_gettext("You set up an authenticator app"),
    Event.SECOND_FACTOR_REMOVED: lazy_gettext("You removed your password and authenticator app"),
    Event.RECOVERY_CODES_GENERATED: lazy_gettext("New recovery codes were made"),
    Event.RECOVERY_CODE_USED: lazy_gettext("A recovery code was used"),
    Event.SIGNED_OUT: lazy_gettext("You signed out"),
    Event.SESSION_REVOKED: lazy_gettext("A signed-in session was ended"),
    Event.CONSENT_GRANTED: lazy_gettext("You agreed to passkey sign-in"),
    Event.CONSENT_DECLINED: lazy_gettext("You said no thanks to passkeys"),
    Event.CONSENT_WITHDRAWN: lazy_gettext("You withdrew your agreement to passkey sign-in"),
    Event.KILL_SWITCH_STATE: lazy_gettext("Passkey settings of the service changed"),
    Event.DATA_EXPORTED: lazy_gettext("You downloaded your data"),
    Event.OPERATOR_EXPORT: lazy_gettext("Our staff exported your data at your request"),
    Event.OPERATOR_ERASURE: lazy_gettext("Our staff deleted the account at your request"),
}

METHOD_LABELS: dict[str, Any] = {
    "passkey": lazy_gettext("with a passkey"),
    "password_totp": lazy_gettext("with your password and a code"),
    "recovery_code": lazy_gettext("with a recovery code"),
}

CONSENT_LABELS: dict[str, Any] = {
    "granted": lazy_gettext("You agreed"),
    "declined": lazy_gettext("You said no thanks"),
    "withdrawn": lazy_gettext("You withdrew"),
}


def describe_event(event: str, details: dict[str, Any] | None = None) -> str:
    """The event as the person reads it, in the request's language."""
    text = str(EVENT_LABELS.get(event, event))
    method = (details or {}).get("method")
    if isinstance(method, str) and method in METHOD_LABELS:
        # Translators: an event and how it was done, e.g. "You signed in" + "with a
        # passkey". Put the two parts in the order your language needs, with brackets
        # around the second if a plain sentence cannot be made.
        return str(_("%(event)s %(method)s", event=text, method=str(METHOD_LABELS[method])))
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
