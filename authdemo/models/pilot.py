"""The passkey rollout's own records (docs/rollout.md, docs/decisions/0022-pilot-and-guardrails.md).

``runtime_switches``: the deployment-wide passkey switches an operator sets while the app
runs. About the deployment, never about a person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from authdemo.models.base import Base, not_personal


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
