"""What the words people read say, in every language they are shipped in (issue 19).

Read from what a person is shown, not from the code that shows it: every message of
every catalogue (its English and its translation), every published notice text and the
deployment-facts block beside it in each of its languages.

- No text puts a form on exercising a right. GDPR Art 21 (objection) and Art 7(3)
  (withdrawal) set none, and Art 12(2) asks the controller to make exercising rights easy:
  a notice that says "in writing" ("schriftlich", which in German law means a signed
  document, BGB §126) tells people less than the law gives them.
- The same English says the same German everywhere (:data:`GLOSSARY`): one condition of a
  withdrawal, one right, one party, worded one way on every page, in the export and in the
  consent notice. The pinned German notice cannot change (a published text is never
  edited), so where it has a phrase, the catalogue follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from authdemo.consent import facts
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN
from authdemo.i18n import TRANSLATIONS
from tests.support.catalogues import entries, po_file

CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))

#: Ways of saying a right must be exercised in a particular form.
FORM_REQUIRED = re.compile(
    r"\b(?:schriftlich\w*|Schriftform|in writing|by writing|in written form|by (?:letter|post)"
    r"|per (?:Brief|Post)|auf dem Postweg)\b",
    re.IGNORECASE,
)


#: Per language: an English phrase, and the German every translation of it uses. Each
#: phrase of a pinned notice is worded as that notice words it (authdemo/consent/notices.py).
GLOSSARY = {
    "de": {
        "more than a few minutes ago": "mehr als einige Minuten zurück",
        "costs you nothing": "entsteht Ihnen kein Nachteil",
        "what you agreed to": "worin Sie eingewilligt haben",
        "your only way in": "Ihr einziger Zugang",
        "only way to sign in": "einzige Möglichkeit",
        "passkey provider": "Passkey-Anbieter",
        "data protection authority": "Datenschutz-Aufsichtsbehörde",
    },
}


def flat(text: str) -> str:
    return " ".join(text.split())


def translations(language: str) -> Iterator[tuple[str, str]]:
    """(English, translation) of every message, each plural form on its own."""
    for entry in entries(po_file(language)):
        for english, translated in zip(entry.english, entry.translated, strict=False):
            yield flat(english), flat(translated)


def catalogue_texts(po: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for the English and the translation of every message of ``po``."""
    for entry in entries(po):
        for text in (*entry.english, *entry.translated):
            yield f"{po.parent.parent.name}: {entry.english[0][:60]!r}", text


def notice_texts() -> Iterator[tuple[str, str]]:
    """Every published notice text, and the facts block in each notice language."""
    for notice in NOTICES.texts(PASSKEY_SIGNIN):
        yield f"notice {notice.version} ({notice.language})", notice.full_text
        yield f"notice {notice.version} ({notice.language}) changes", notice.changes
    for language, wording in facts.WORDING.items():
        yield (
            f"facts ({language})",
            " ".join((wording.controller, wording.contact, wording.retention, wording.kept)),
        )


def person_facing_texts() -> Iterator[tuple[str, str]]:
    for po in CATALOGUES:
        yield from catalogue_texts(po)
    yield from notice_texts()


def test_the_pattern_finds_a_form_however_it_is_worded() -> None:
    # Guards the pattern itself: a test that cannot fail proves nothing.
    assert FORM_REQUIRED.search("Sie können schriftlich bei uns widersprechen.")
    assert FORM_REQUIRED.search("you can object by writing to us")
    assert FORM_REQUIRED.search("Widerspruch bitte per Post")
    assert not FORM_REQUIRED.search("Teilen Sie es uns formlos unter privacy@example.org mit.")
    assert not FORM_REQUIRED.search("tell us at privacy@example.org, in any form")


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parent.parent.name)
def test_the_catalogue_is_read(po: Path) -> None:
    assert sum(1 for _ in catalogue_texts(po)) > 500


def test_no_text_a_person_reads_puts_a_form_on_exercising_a_right() -> None:
    found = {
        where: match.group(0)
        for where, text in person_facing_texts()
        if (match := FORM_REQUIRED.search(" ".join(text.split())))
    }
    assert found == {}


@pytest.mark.parametrize("language", sorted(GLOSSARY))
def test_every_glossary_phrase_is_in_the_catalogue(language: str) -> None:
    # Guards the glossary: a phrase no message has would check nothing.
    english = [en.lower() for en, _ in translations(language)]
    unused = [phrase for phrase in GLOSSARY[language] if not any(phrase in e for e in english)]
    assert unused == []


@pytest.mark.parametrize("language", sorted(GLOSSARY))
def test_the_same_english_says_the_same_words_in_every_message(language: str) -> None:
    differs = {
        english[:80]: phrase
        for english, translated in translations(language)
        for phrase, words in GLOSSARY[language].items()
        if phrase in english.lower() and words not in translated
    }
    assert differs == {}


@pytest.mark.parametrize("language", sorted(GLOSSARY))
def test_the_glossary_words_each_phrase_as_the_pinned_notice_does(language: str) -> None:
    checked = 0
    for original in NOTICES.versions(PASSKEY_SIGNIN):
        text = NOTICES.get(PASSKEY_SIGNIN, original.version, language)
        if text is None:
            continue
        for phrase, words in GLOSSARY[language].items():
            for english, translated in (
                (original.full_text, text.full_text),
                (original.changes, text.changes),
            ):
                if phrase in flat(english).lower():
                    checked += 1
                    assert words in flat(translated), (original.version, phrase)
    assert checked >= 3


#: A sentence that says withdrawing (or stopping) can take a "confirm it's you" step.
WITHDRAW_STEP = re.compile(r"withdraw|stop|change your mind", re.IGNORECASE)
STEP_UP = re.compile(r"confirm(?:ing)? it's you", re.IGNORECASE)
#: The two conditions of that step, as the current notice states them (notice v3).
ONLY_WAY_IN = re.compile(r"only way (?:in|to sign in)", re.IGNORECASE)
SIGNED_IN_A_WHILE_AGO = "more than a few minutes ago"


def test_every_text_on_the_withdrawal_step_names_both_of_its_conditions() -> None:
    """Withdrawing asks "Confirm it's you" first only when a passkey is the only way in
    AND the sign-in is more than a few minutes old (the consent route; notice v3 says so).
    A message that names one condition tells a person with a fresh sign-in they face a step
    they do not; the opt-in hint under the box did until issue 19's review."""
    current = NOTICES.current(PASSKEY_SIGNIN)
    assert SIGNED_IN_A_WHILE_AGO in flat(current.full_text)
    stated = [
        english
        for english, _ in translations("de")
        if WITHDRAW_STEP.search(english) and STEP_UP.search(english) and ONLY_WAY_IN.search(english)
    ]
    assert len(stated) >= 3
    assert [english[:90] for english in stated if SIGNED_IN_A_WHILE_AGO not in english] == []


#: A sentence that keeps a record of a choice beyond its period while it is the latest.
KEPT_WHILE_LATEST = re.compile(r"longer only while[^.;]*latest choice[^.;]*", re.IGNORECASE)


def test_every_text_that_keeps_a_choice_while_it_is_the_latest_says_only_with_an_account() -> None:
    """A yes or a withdrawal is kept past its period only while it is the latest choice AND
    the account exists: after an erasure the purge deletes it when its period ends
    (tests/functional/test_receipt_claims.py proves that against the purge). The facts
    block and the receipt said so; the privacy notice left the account out until issue 19's
    review."""
    texts = [english for english, _ in translations("de")]
    texts += [
        " ".join(text.split()) for where, text in notice_texts() if where.startswith("facts (en")
    ]
    clauses = [match.group(0) for text in texts for match in KEPT_WHILE_LATEST.finditer(text)]
    assert len(clauses) >= 3
    assert [clause for clause in clauses if "account" not in clause] == []
