"""The consent ledger against the pinned notices: ``flask compliance ledger``.

Each consent record names a notice text by purpose, version and language and stores the
SHA-256 of the text the person was shown. That record proves something only if the hash
is the pinned hash of that published text (compliance/notice-pins.json): a record whose
hash is pinned for no text, or for another version or language, cannot show what the
person agreed to (GDPR Art 7(1); docs/decisions/0029-notices-per-language.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authdemo.compliance.notices import PinKey
from authdemo.models import ConsentEvent


@dataclass(slots=True)
class LedgerReport:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    #: The distinct deployment-facts hashes recorded (read them back with the
    #: configuration history and ``flask compliance facts``).
    facts: list[str] = field(default_factory=list)
    #: Records per notice text: (purpose, version, language, SHA-256) -> count.
    texts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)


def compare(session: Session, pins: Mapping[PinKey, str]) -> LedgerReport:
    """Group the ledger by (purpose, version, language, hash) and compare each group
    with the pin of that text."""
    report = LedgerReport()
    columns = (
        ConsentEvent.purpose,
        ConsentEvent.notice_version,
        ConsentEvent.notice_language,
        ConsentEvent.notice_sha256,
    )
    groups = session.execute(
        select(*columns, func.count()).group_by(*columns).order_by(*columns)
    ).all()
    for purpose, version, language, sha256, count in groups:
        report.rows += count
        report.texts[(purpose, version, language, sha256)] = count
        pinned = pins.get((purpose, version, language))
        name = f"{count} record(s) of {purpose} v{version} ({language})"
        if pinned is None:
            report.problems.append(
                f"{name} name a text that is not pinned (never published in that language)"
            )
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
