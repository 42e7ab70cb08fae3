"""The consent notices as compliance/notices.md shows them: generated, never retyped.

The single source of the texts is ``authdemo.consent.notices`` (the consent feature):
pages render from it and the ledger records each text's SHA-256. compliance/notices.md
carries a generated copy of every published version between two markers; the drift
check regenerates that part and fails if it differs, and ``flask compliance notices
--write`` rewrites it. So the documented texts are always the rendered ones.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOTICES_FILE = "notices.md"
SOURCE_MODULE = "authdemo.consent.notices"
BEGIN = (
    "<!-- BEGIN GENERATED notices: `flask compliance notices --write` rewrites this part "
    "from authdemo/consent/notices.py; do not edit it by hand -->"
)
END = "<!-- END GENERATED notices -->"


@dataclass(frozen=True, slots=True)
class NoticeView:
    purpose: str
    version: str
    published: str
    material: bool
    title: str
    #: The exact text the ledger's hash covers (``Notice.full_text`` when the source has
    #: one: the title, a blank line, the body; otherwise the body).
    text: str
    changes: str
    #: The hash the consent module declares (what the ledger records).
    declared_sha256: str
    current: bool

    @property
    def sha256(self) -> str:
        """SHA-256 of the text as UTF-8, computed here independently of the source."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def load() -> list[NoticeView] | None:
    """Every published notice version, or ``None`` while the consent module does not exist."""
    try:
        module: Any = importlib.import_module(SOURCE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in {SOURCE_MODULE, "authdemo.consent"}:
            return None
        raise
    book = module.NOTICES
    purposes = tuple(getattr(module, "PURPOSES", (module.PASSKEY_SIGNIN,)))
    views: list[NoticeView] = []
    for purpose in purposes:
        versions = tuple(book.versions(purpose))
        for index, notice in enumerate(versions):
            views.append(
                NoticeView(
                    purpose=str(notice.purpose),
                    version=str(notice.version),
                    published=notice.published.isoformat(),
                    material=bool(notice.material),
                    title=str(notice.title),
                    text=str(getattr(notice, "full_text", notice.text)),
                    changes=str(getattr(notice, "changes", "")),
                    declared_sha256=str(notice.sha256),
                    current=index == len(versions) - 1,
                )
            )
    return views


def render(notices: list[NoticeView]) -> str:
    """The generated part of compliance/notices.md, markers included."""
    parts = [BEGIN, ""]
    for notice in notices:
        state = "current" if notice.current else "superseded"
        parts += [
            f"### `{notice.purpose}` version {notice.version} ({state})",
            "",
            f"- Title: **{notice.title}**",
            f"- Published: {notice.published}",
            f"- Material change (people who agreed to an earlier version are asked again): "
            f"{'yes' if notice.material else 'no'}",
            f"- SHA-256 of the text (UTF-8), as the consent ledger records it: `{notice.sha256}`",
            f"- What changed: {notice.changes or 'First version.'}",
            "",
            "```text",
            notice.text,
            "```",
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def generated_part(document: str) -> str | None:
    """The generated part of a notices.md text, or ``None`` if it has none."""
    start = document.find(BEGIN)
    end = document.find(END)
    if start < 0 or end < start:
        return None
    return document[start : end + len(END)]


def write(folder: Path, notices: list[NoticeView]) -> bool:
    """Replace the generated part of notices.md; ``True`` if the file changed."""
    path = folder / NOTICES_FILE
    document = path.read_text(encoding="utf-8")
    current = generated_part(document)
    fresh = render(notices)
    if current is None:
        raise ValueError(f"{NOTICES_FILE} has no generated part: add the two marker lines")
    if current == fresh:
        return False
    path.write_text(document.replace(current, fresh), encoding="utf-8")
    return True
