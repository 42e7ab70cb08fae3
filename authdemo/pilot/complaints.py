"""The "Report a problem" form: a fixed list of categories and an optional short text
(issue 20 item 3; docs/decisions/0022-pilot-and-guardrails.md).

A report is the plainest guardrail signal there is: a person telling us something went
wrong. It is kept ``COMPLAINT_RETENTION_DAYS`` and no longer (GDPR Art 5(1)(e); deleted by
``flask retention purge``), goes into the person's export when they were signed in (Art
15, 20), and is erased with the account (Art 17). Signed out, a report is linked to no
account: nothing asks who sent it, and the page says so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from authdemo.errors import InvalidInput
from authdemo.models import Complaint
from authdemo.models.pilot import COMPLAINT_TEXT_MAX

#: Category -> what the form says (in the person's language when shown). The keys are
#: stored and become metric labels.
CATEGORIES: Mapping[str, Any] = {
    "passkey_sign_in": lazy_gettext("I couldn't sign in with a passkey"),
    "passkey_create": lazy_gettext("I couldn't create a passkey"),
    "locked_out": lazy_gettext("I'm locked out of my account"),
    "password_code": lazy_gettext("Trouble with my password or one-time code"),
    "unclear": lazy_gettext("Something was confusing or unclear"),
    "accessibility": lazy_gettext("Something was hard to use with my assistive technology"),
    "privacy": lazy_gettext("A privacy concern"),
    "other": lazy_gettext("Something else"),
}


@dataclass(frozen=True, slots=True)
class Report:
    category: str
    text: str | None


def parse_report(category: object, text: object) -> Report:
    """A category from the list and at most COMPLAINT_TEXT_MAX characters of text
    (line breaks allowed; other control characters refused)."""
    if not isinstance(category, str) or category not in CATEGORIES:
        raise InvalidInput(_("Please choose what the problem is about."), field="category")
    if text is None:
        return Report(category, None)
    if not isinstance(text, str):
        raise InvalidInput(_("Please describe the problem in words."), field="text")
    cleaned = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    if len(cleaned) > COMPLAINT_TEXT_MAX:
        raise InvalidInput(
            _("Please keep it to %(num)d characters or fewer.", num=COMPLAINT_TEXT_MAX),
            field="text",
        )
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\n\t" for ch in cleaned):
        raise InvalidInput(_("The text contains characters we can't keep."), field="text")
    return Report(category, cleaned or None)


def submit(
    session: Session,
    report: Report,
    *,
    now: datetime,
    user_id: str | None,
    method: str | None,
    cohort: str,
) -> None:
    """Store one report (the caller commits, then counts it on /metrics)."""
    session.add(
        Complaint(
            received_at=now,
            category=report.category,
            text=report.text,
            user_id=user_id,
            method=method if user_id is not None else None,
            cohort=cohort,
        )
    )
    session.flush()


def purge_expired(session: Session, *, now: datetime, days: int, limit: int) -> int:
    """Delete up to ``limit`` reports older than ``days`` (``flask retention purge``)."""
    batch = (
        select(Complaint.id)
        .where(Complaint.received_at < now - timedelta(days=days))
        .order_by(Complaint.id)
        .limit(limit)
    )
    result = session.execute(delete(Complaint).where(Complaint.id.in_(batch.scalar_subquery())))
    return int(getattr(result, "rowcount", 0))
