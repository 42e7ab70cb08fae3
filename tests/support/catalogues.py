"""The message catalogues as the tests read them (authdemo/translations/<language>/
LC_MESSAGES/messages.po, docs/translating.md): each message's English and its
translation, a plural message with every form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from authdemo.i18n import TRANSLATIONS


@dataclass(frozen=True, slots=True)
class Entry:
    #: The msgid, and the msgid_plural after it if the message has one.
    english: tuple[str, ...]
    #: The msgstr, or one per plural form of the language.
    translated: tuple[str, ...]
    #: Where the message is used (path, line), as extracted.
    locations: tuple[tuple[str, int], ...]


def po_file(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def entries(po: Path) -> Iterator[Entry]:
    """Every message of the catalogue ``po``, its header left out."""
    with po.open("rb") as file:
        catalogue = read_po(file, locale=po.parent.parent.name)
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield Entry(tuple(english), tuple(strings), tuple(message.locations))
