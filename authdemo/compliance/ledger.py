"""The consent ledger against the pinned notices: ``flask compliance ledger``.

Each consent record names a notice by purpose and version and stores the SHA-256 of the
text the person was shown. That record proves something only if the hash is the pinned
hash of a published text (compliance/notice-pins.json): a record whose hash is pinned for
no text, or for another version, cannot show what the person agreed to (GDPR Art 7(1)).
The ledger has no language column yet; every record is of the English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authdemo.compliance.notices import PinKey
from authdemo.models import ConsentEvent

#: The language of every record until the ledger records one (issue 19).
LEDGER_LANGUAGE = "en"


@dataclass(slots=True)
class LedgerReport:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    #: The distinct deployment-facts hashes recorded (read them back with the
    #: configuration history and ``flask compliance facts``).
    facts: list[str] = field(default_factory=list)


def compare(session: Session, pins: Mapping[PinKey, str]) -> LedgerReport:
    """Group the ledger by (purpose, version, hash) and compare each group with its pin."""
    report = LedgerReport()
    groups = session.execute(
        select(
            ConsentEvent.purpose,
            ConsentEvent.notice_version,
            ConsentEvent.notice_sha256,
            func.count(),
        )
        .group_by(ConsentEvent.purpose, ConsentEvent.notice_version, ConsentEvent.notice_sha256)
        .order_by(ConsentEvent.purpose, ConsentEvent.notice_version)
    ).all()
    for purpose, version, sha256, count in groups:
        report.rows += count
        pinned = pins.get((purpose, version, LEDGER_LANGUAGE))
        name = f"{count} record(s) of {purpose} v{version} ({LEDGER_LANGUAGE})"
        if pinned is None:
            report.problems.append(f"{name} name a version that is not pinned (never published)")
        elif pinned != sha256:
            report.problems.append(f"{name} store SHA-256 {sha256}, but the pin is {pinned}")
    report.facts = sorted(
        str(h)
        for h in session.execute(
            select(ConsentEvent.facts_sha256)
            .where(ConsentEvent.facts_sha256.is_not(None))
            .distinct()
        ).scalars()
    )
    return report
