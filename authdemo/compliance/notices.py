"""The consent notices as compliance/notices.md shows them, and their pins.

The single source of the texts is ``authdemo.consent.notices`` (the consent feature):
pages render from it and the ledger records each text's SHA-256. compliance/notices.md
carries a generated copy of every published version between two markers; the drift
check regenerates that part and fails if it differs, and ``flask compliance notices
--write`` rewrites it. So the documented texts are always the rendered ones.

A hash computed from the source proves nothing about the source being unchanged, so
compliance/notice-pins.json pins the SHA-256 of every published text, keyed by
(purpose, version, language). ``--write`` adds the pin of a newly published version and
refuses to change or drop the pin of one already published; the check fails when a
published text no longer hashes to its pin. An edit of a published notice therefore
cannot be laundered: it has to become a new version
(docs/decisions/0017-pinned-notices-and-deployment-facts.md).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOTICES_FILE = "notices.md"
#: Where the message catalogues are (relative to the repository root), one folder per
#: language: ``<language>/LC_MESSAGES/messages.po`` (docs/translating.md).
TRANSLATIONS = "authdemo/translations"
CATALOGUE = "messages.po"
DEFAULT_LANGUAGE = "en"
PINS_FILE = "notice-pins.json"
SOURCE_MODULE = "authdemo.consent.notices"
BEGIN = (
    "<!-- BEGIN GENERATED notices: `flask compliance notices --write` rewrites this part "
    "from authdemo/consent/notices.py; do not edit it by hand -->"
)
END = "<!-- END GENERATED notices -->"


#: (purpose, version, language): what a pin is keyed by.
PinKey = tuple[str, str, str]


class PinError(ValueError):
    """The pins file is malformed, or a write would change a published pin."""


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
    language: str = "en"

    @property
    def key(self) -> PinKey:
        return (self.purpose, self.version, self.language)

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
        if not versions:
            continue
        latest = str(versions[-1].version)
        for notice in book.texts(purpose):
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
                    current=str(notice.version) == latest,
                    language=str(notice.language),
                )
            )
    return views


def shipped_languages(root: Path) -> tuple[str, ...]:
    """The languages the app ships: English and every language with a message catalogue
    under authdemo/translations/ (what a deployment can offer in AUTHDEMO_LANGUAGES)."""
    found = sorted(
        path.parents[1].name for path in (root / TRANSLATIONS).glob(f"*/LC_MESSAGES/{CATALOGUE}")
    )
    return (DEFAULT_LANGUAGE, *(language for language in found if language != DEFAULT_LANGUAGE))


def missing_languages(
    views: list[NoticeView], languages: tuple[str, ...]
) -> Iterator[tuple[str, str, str]]:
    """(purpose, version, language) of each shipped language the current version of a
    purpose has no text in: a person reading that language could only be shown the
    English fallback, so a new version must be published in all of them."""
    current: dict[tuple[str, str], set[str]] = {}
    for view in views:
        if view.current:
            current.setdefault((view.purpose, view.version), set()).add(view.language)
    for (purpose, version), has in sorted(current.items()):
        for language in languages:
            if language not in has:
                yield purpose, version, language


def render(notices: list[NoticeView]) -> str:
    """The generated part of compliance/notices.md, markers included."""
    parts = [BEGIN, ""]
    for notice in notices:
        state = "current" if notice.current else "superseded"
        parts += [
            f"### `{notice.purpose}` version {notice.version} ({state}), `{notice.language}`",
            "",
            f"- Title: **{notice.title}**",
            f"- Language: `{notice.language}`",
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


# --- pins --------------------------------------------------------------------------------


def load_pins(folder: Path) -> dict[PinKey, str]:
    """The pinned SHA-256 of every published notice text; empty when there is no file."""
    path = folder / PINS_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PinError(f"{PINS_FILE}: not readable JSON ({exc})") from exc
    entries = raw.get("pins") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise PinError(f'{PINS_FILE}: expected {{"pins": [...]}}')
    pins: dict[PinKey, str] = {}
    for entry in entries:
        fields = ("purpose", "version", "language", "sha256")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise PinError(f"{PINS_FILE}: each pin needs text {', '.join(fields)}")
        key = (entry["purpose"], entry["version"], entry["language"])
        if key in pins:
            raise PinError(f"{PINS_FILE}: {_name(key)} is pinned twice")
        pins[key] = entry["sha256"]
    return pins


@dataclass(frozen=True, slots=True)
class PinDrift:
    key: PinKey
    #: "unpinned" (a new version: ``--write`` pins it), "edited" or "removed" (refused).
    kind: str
    message: str


def pin_drift(views: list[NoticeView], pins: Mapping[PinKey, str]) -> Iterator[PinDrift]:
    """Every unpinned version, every published text whose hash is not its pin, and every
    pin whose version is no longer published."""
    published = {view.key: view for view in views}
    for key, view in published.items():
        pinned = pins.get(key)
        if pinned is None:
            yield PinDrift(
                key,
                "unpinned",
                f"{_name(key)} is not pinned in {PINS_FILE}; "
                "run `flask compliance notices --write` to pin a newly published version",
            )
        elif pinned != view.sha256:
            yield PinDrift(
                key,
                "edited",
                f"{_name(key)} was edited after publication: its text hashes to "
                f"{view.sha256}, the pin is {pinned}. Restore the published text and "
                "publish the change as a new version",
            )
    for key in sorted(set(pins) - set(published)):
        yield PinDrift(
            key, "removed", f"{_name(key)} is pinned in {PINS_FILE} but no longer published"
        )


def write_pins(folder: Path, views: list[NoticeView]) -> bool:
    """Pin every newly published version; ``True`` if the file changed.

    Raises :class:`PinError` (and writes nothing) when a published text changed or a
    published version disappeared: a pin is never rewritten."""
    pins = load_pins(folder)
    refused = [d.message for d in pin_drift(views, pins) if d.kind != "unpinned"]
    if refused:
        raise PinError("; ".join(refused))
    added = {view.key: view.sha256 for view in views if view.key not in pins}
    if not added:
        return False
    everything = {**pins, **added}
    document = {
        "about": (
            "SHA-256 (UTF-8) of every published consent notice text, keyed by purpose, "
            "version and language. `flask compliance notices --write` adds pins and never "
            "changes one; `flask compliance check` fails when a published text no longer "
            "matches. See docs/decisions/0017-pinned-notices-and-deployment-facts.md."
        ),
        "pins": [
            {"purpose": p, "version": v, "language": lang, "sha256": everything[(p, v, lang)]}
            for (p, v, lang) in everything
        ],
    }
    (folder / PINS_FILE).write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return True


def _name(key: PinKey) -> str:
    purpose, version, language = key
    return f"notice {purpose} v{version} ({language})"
