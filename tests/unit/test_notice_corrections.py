"""Corrections of a pinned notice wait for its next version, and are not forgotten there.

A published notice text is pinned (compliance/notice-pins.json) and never edited. An
editorial correction (a missing comma) is listed in compliance/notices.md, "Corrections to
make with the next version", as the words published and the words they should be. Read
from that document, as a reviewer reads it: each listed correction must quote words that
are in the text it names, and once a newer version is the current one, its text in that
language must no longer have them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from authdemo import PROJECT_ROOT
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Notice, NoticeBook

NOTICES_MD = PROJECT_ROOT / "compliance" / "notices.md"
SECTION = "## Corrections to make with the next version"
_ITEM = re.compile(
    r"Correction \((?P<language>[a-z]{2,3}), version (?P<version>[^,]+), [^)]*\): "
    r'"(?P<published>[^"]+)" → "(?P<corrected>[^"]+)"'
)


@dataclass(frozen=True, slots=True)
class Correction:
    language: str
    version: str
    published: str
    corrected: str


def listed(document: str) -> list[Correction]:
    """The corrections the section lists (items may wrap over several lines)."""
    assert SECTION in document, f"compliance/notices.md has no section {SECTION!r}"
    section = document.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [
        Correction(m["language"], m["version"], m["published"], m["corrected"])
        for m in _ITEM.finditer(" ".join(section.split()))
    ]


def problems(corrections: list[Correction], book: NoticeBook) -> list[str]:
    found = []
    current = book.current(PASSKEY_SIGNIN)
    for c in corrections:
        name = f"version {c.version} ({c.language})"
        if c.published == c.corrected:
            found.append(f"{name}: the correction changes nothing")
        published = book.get(PASSKEY_SIGNIN, c.version, c.language)
        if published is None:
            found.append(f"{name}: no such published text")
            continue
        if c.published not in " ".join(published.full_text.split()):
            found.append(f"{name}: {c.published!r} is not in the published text")
        if current.version != c.version:
            newer = book.in_language(current, c.language)
            if c.published in " ".join(newer.full_text.split()):
                found.append(
                    f"version {current.version} ({newer.language}) still has {c.published!r}"
                )
    return found


def test_each_listed_correction_quotes_published_words_and_is_not_forgotten() -> None:
    corrections = listed(NOTICES_MD.read_text("utf-8"))
    assert corrections, "the section lists no correction (or its items are not understood)"
    assert problems(corrections, NOTICES) == []


def test_a_next_version_that_forgets_a_listed_correction_is_found() -> None:
    # Guards the check itself, with a version 4 that has or lacks the corrected words.
    [comma] = [c for c in listed(NOTICES_MD.read_text("utf-8")) if c.language == "de"]
    v3 = {n.language: n for n in NOTICES.texts(PASSKEY_SIGNIN) if n.version == "3"}

    def with_version_4(german_summary: str) -> NoticeBook:
        v4 = [
            Notice(
                purpose=PASSKEY_SIGNIN,
                version="4",
                language=language,
                published=date(2027, 1, 1),
                material=False,
                title=text.title,
                summary=german_summary if language == "de" else text.summary,
                text=text.text,
            )
            for language, text in v3.items()
        ]
        return NoticeBook([*NOTICES.texts(PASSKEY_SIGNIN), *v4])

    forgot = v3["de"].summary
    fixed = " ".join(forgot.split()).replace(comma.published, comma.corrected)
    assert problems([comma], with_version_4(forgot)) == [
        f"version 4 (de) still has {comma.published!r}"
    ]
    assert problems([comma], with_version_4(fixed)) == []
