"""Typed SQLAlchemy 2 models, one module per aggregate."""

from authdemo.models.audit import AuditEvent
from authdemo.models.base import Base
from authdemo.models.ceremony import CeremonyKind, UsedChallenge
from authdemo.models.consent import ConsentEvent, ReceiptKey
from authdemo.models.factors import Enrolment, PasswordCredential, RecoveryCode, TotpCredential
from authdemo.models.passkey import Passkey
from authdemo.models.pilot import Complaint, RuntimeSwitch
from authdemo.models.session import UserSession
from authdemo.models.user import User

__all__ = [
    "AuditEvent",
    "Base",
    "CeremonyKind",
    "Complaint",
    "ConsentEvent",
    "Enrolment",
    "Passkey",
    "PasswordCredential",
    "ReceiptKey",
    "RecoveryCode",
    "RuntimeSwitch",
    "TotpCredential",
    "UsedChallenge",
    "User",
    "UserSession",
]
