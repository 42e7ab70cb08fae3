"""The passkey rollout's own records (docs/rollout.md, docs/decisions/0022-pilot-and-guardrails.md).

``runtime_switches``: the deployment-wide passkey switches an operator sets while the app
runs. About the deployment, never about a person.

``complaints``: what people sent with the "Report a problem" form: a category from a
fixed list, an optional short text, and (when they were signed in) the account, how it
signed in and its pilot cohort. Kept ``COMPLAINT_RETENTION_DAYS`` (compliance/retention.md),
exported to the person and erased with the account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import ACCOUNT_LINK, Base, not_personal, personal

#: The longest text a report may carry (characters): enough to say what went wrong,
#: too short to be a place for documents (GDPR Art 5(1)(c)).
COMPLAINT_TEXT_MAX = 500


class RuntimeSwitch(Base):
    __tablename__ = "runtime_switches"

    #: "passkey_enrolment" or "passkey_signin" (authdemo.pilot.switches.Switch).
    name: Mapped[str] = mapped_column(String(32), primary_key=True, info=not_personal())
    enabled: Mapped[bool] = mapped_column(Boolean, info=not_personal())
    #: Why, as the operator or the guardrail put it (the audit trail keeps every change).
    reason: Mapped[str] = mapped_column(String(200), info=not_personal())
    #: "operator" or "guardrail:<name>".
    changed_by: Mapped[str] = mapped_column(String(64), info=not_personal())
    changed_at: Mapped[datetime] = mapped_column(info=not_personal())


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=personal())
    received_at: Mapped[datetime] = mapped_column(index=True, info=personal())
    #: One of authdemo.pilot.complaints.CATEGORIES.
    category: Mapped[str] = mapped_column(String(32), info=personal())
    #: What the person chose to write, if anything (at most COMPLAINT_TEXT_MAX characters).
    text: Mapped[str | None] = mapped_column(String(COMPLAINT_TEXT_MAX), info=personal())
    #: The account, when the person was signed in; NULL for a report sent signed out.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=personal(export=False, reason=ACCOUNT_LINK),
    )
    #: How this session signed in ("passkey", "password_totp", "recovery_code"); NULL
    #: signed out. Lets the pilot report count complaints per method.
    method: Mapped[str | None] = mapped_column(String(16), info=personal())
    #: The account's pilot cohort when it reported ("pilot", "outside"; "unknown" signed out).
    cohort: Mapped[str] = mapped_column(String(8), info=personal())
