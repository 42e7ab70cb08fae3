"""No string escapes translation (issue 19 item 2): the messages marked in the code, as
`make translations` extracts them, against each shipped catalogue; and the compiled
catalogues the app reads against their sources."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from authdemo import PROJECT_ROOT
from authdemo.i18n import TRANSLATIONS

CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def _extract_arguments() -> list[str]:
    """The Makefile's own `pybabel extract` options, so the test checks what
    `make translations` produces, not a second opinion of it."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    found = re.search(r"^BABEL_EXTRACT := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert found, "Makefile: BABEL_EXTRACT is gone"
    return found.group(1).replace("\\\n", " ").split()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", *_extract_arguments(), "-o", str(pot), "."],
        cwd=PROJECT_ROOT,
        check=True,
    )
    with pot.open("rb") as file:
        return read_po(file)


def _read(po: Path) -> Catalog:
    with po.open("rb") as file:
        return read_po(file, locale=po.parent.parent.name)


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def _ids(catalog: Catalog) -> dict[tuple[str, str | None], Message]:
    return {_key(m): m for m in catalog if m.id}


def test_there_is_a_catalogue_besides_english():
    assert CATALOGUES, "authdemo/translations/ holds no catalogue"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_every_marked_message_is_translated(po: Path, extracted: Catalog):
    """Missing, empty or fuzzy (a guess `pybabel update` made, not yet reviewed) messages
    would be shown in English."""
    catalogue = _ids(_read(po))
    problems = []
    for key, wanted in _ids(extracted).items():
        where = ", ".join(sorted({path for path, _line in wanted.locations}))
        found = catalogue.get(key)
        if found is None:
            problems.append(f"missing: {key[0]!r} ({where}): run make translations")
        elif found.fuzzy:
            problems.append(f"fuzzy: {key[0]!r} ({where}): review it, remove the fuzzy flag")
        elif not all(found.string) if isinstance(found.string, tuple) else not found.string:
            problems.append(f"empty: {key[0]!r} ({where})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_no_catalogue_keeps_a_message_the_code_no_longer_has(po: Path, extracted: Catalog):
    catalog = _read(po)
    assert not catalog.obsolete, f"obsolete #~ entries in {po}: run make translations"
    stale = sorted(set(_ids(catalog)) - set(_ids(extracted)))
    assert not stale, f"{po} has messages the code no longer has: run make translations"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_translations_keep_the_placeholders(po: Path):
    """A translation that drops or renames a %(name)s fails at run time (or silently loses
    the value); Babel's own checkers find it."""
    problems = [
        f"{message.id!r}: {', '.join(str(e) for e in errors)}"
        for message, errors in _read(po).check()
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_the_compiled_catalogue_is_the_source_compiled(po: Path):
    """The app reads the committed .mo; one compiled from an older .po serves old text."""
    compiled = io.BytesIO()
    write_mo(compiled, _read(po))
    committed = po.with_suffix(".mo")
    assert committed.is_file(), f"{committed} is missing: run make translations"
    assert committed.read_bytes() == compiled.getvalue(), (
        f"{committed} is stale against {po.name}: run make translations and commit both"
    )
