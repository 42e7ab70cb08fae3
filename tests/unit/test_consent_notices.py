"""Notices: one versioned source, hashed over exactly what pages show."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Block, Notice, NoticeBook
from authdemo.human_units import human_duration
from tests.conftest import make_app


def _notice(version: str, published: date, *, material: bool = True, text: str = "Text.") -> Notice:
    return Notice(
        purpose=PASSKEY_SIGNIN,
        version=version,
        published=published,
        material=material,
        title="Title",
        text=text,
    )


V1 = _notice("1", date(2026, 1, 1))
V1_1 = _notice("1.1", date(2026, 2, 1), material=False)
V2 = _notice("2", date(2026, 3, 1))
V2_1 = _notice("2.1", date(2026, 4, 1), material=False)


def test_hash_is_sha256_of_the_title_and_text_as_utf8() -> None:
    notice = _notice("1", date(2026, 1, 1), text="Dein Gesicht bleibt auf dem Gerät.")
    expected = hashlib.sha256("Title\n\nDein Gesicht bleibt auf dem Gerät.".encode()).hexdigest()
    assert notice.sha256 == expected


def test_any_change_to_the_words_changes_the_hash() -> None:
    assert (
        _notice("1", date(2026, 1, 1), text="A.").sha256
        != _notice("1", V1.published, text="B.").sha256
    )
    assert replace(V1, title="Other").sha256 != V1.sha256


def test_text_is_split_into_paragraphs_and_lists_without_rewording() -> None:
    notice = _notice("1", date(2026, 1, 1), text="One\nparagraph.\n\n- first\n- second\n\nLast.")
    assert notice.blocks == (
        Block(text="One paragraph."),
        Block(items=("first", "second")),
        Block(text="Last."),
    )


@pytest.mark.parametrize("text", [" leading space", "trailing newline\n", "windows\r\nline"])
def test_untidy_text_is_refused_so_the_hash_is_stable(text: str) -> None:
    with pytest.raises(ValueError, match="trimmed"):
        _notice("1", date(2026, 1, 1), text=text)


@pytest.mark.parametrize("version", ["", "x" * 17])
def test_version_must_fit_the_ledger_column(version: str) -> None:
    with pytest.raises(ValueError, match="1-16 characters"):
        _notice(version, date(2026, 1, 1))


def test_book_refuses_a_version_published_twice() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        NoticeBook([V1, replace(V1, text="Edited after publication.")])


def test_book_refuses_versions_out_of_order() -> None:
    with pytest.raises(ValueError, match="oldest first"):
        NoticeBook([V2, V1])


def test_current_is_the_latest_version() -> None:
    assert NoticeBook([V1, V1_1, V2]).current(PASSKEY_SIGNIN) is V2


def test_only_a_later_material_version_asks_again() -> None:
    book = NoticeBook([V1, V1_1, V2, V2_1])
    assert book.material_change_since(PASSKEY_SIGNIN, "1") is True
    assert book.material_change_since(PASSKEY_SIGNIN, "1.1") is True
    assert book.material_change_since(PASSKEY_SIGNIN, "2") is False
    assert book.material_change_since(PASSKEY_SIGNIN, "2.1") is False
    assert NoticeBook([V1, V1_1]).material_change_since(PASSKEY_SIGNIN, "1") is False


def test_a_version_we_never_published_counts_as_changed() -> None:
    assert NoticeBook([V1]).material_change_since(PASSKEY_SIGNIN, "0.9") is True


def test_the_material_versions_since_one_are_what_changed_it() -> None:
    # What the renewal page names and shows the notes of (a later wording fix is not).
    book = NoticeBook([V1, V1_1, V2, V2_1])
    assert book.material_versions_since(PASSKEY_SIGNIN, "1") == (V2,)
    assert book.material_versions_since(PASSKEY_SIGNIN, "2") == ()
    assert book.material_versions_since(PASSKEY_SIGNIN, "0.9") is None


def test_published_notice_covers_what_the_issue_requires() -> None:
    text = NOTICES.current(PASSKEY_SIGNIN).text
    assert "face, your fingerprint or your screen-lock PIN" in text
    assert "never sent to us and we never store them" in text
    for stored in ("public key", "credential ID", "counter", "synced", "created and last used"):
        assert stored in text
    assert "Apple, Google, Microsoft or a password manager" in text
    assert "together with your username" in text
    assert "Security keys are passkeys too" in text
    assert "withdraw" in text or "change your mind" in text


def test_the_summary_is_part_of_the_hashed_text() -> None:
    current = NOTICES.current(PASSKEY_SIGNIN)
    assert current.summary
    assert current.full_text == f"{current.title}\n\n{current.summary}\n\n{current.text}"
    assert replace(current, summary="Other words.").sha256 != current.sha256


def test_the_current_notice_compares_the_two_ways_honestly() -> None:
    """Issue 16 item 5: a password and code can be phished, a passkey cannot; the
    alternative is not called equal in strength, nor second-class."""
    current = NOTICES.current(PASSKEY_SIGNIN)
    words = current.full_text.lower()
    for overclaim in ("just as well", "equally secure", "equally strong", "as secure as"):
        assert overclaim not in words
    assert "a fake site cannot trick you into giving it away" in words
    assert "a password and a code can be typed into a fake site" in words
    assert "with the same access to everything" in words
    assert "costs you nothing" in words


def test_the_current_notice_says_the_provider_receives_the_display_name() -> None:
    text = NOTICES.current(PASSKEY_SIGNIN).text
    assert "receives your username and your display name" in text


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "1 day"), (90, "90 days"), (365, "1 year"), (3 * 365, "3 years"), (366, "366 days")],
)
def test_retention_periods_are_said_in_human_units_without_rounding(days: int, words: str) -> None:
    assert human_duration(days) == words


def test_a_retention_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        human_duration(0)


# --- languages (issue 19 item 3, docs/decisions/0029-notices-per-language.md) ---------


def _german(original: Notice, **changes: object) -> Notice:
    return replace(original, language="de", title="Titel", text="Text auf Deutsch.", **changes)


def test_a_translation_is_another_text_of_the_same_version() -> None:
    german = _german(V2)
    book = NoticeBook([V1, V2, german])
    assert book.current(PASSKEY_SIGNIN) is V2
    assert book.current(PASSKEY_SIGNIN, "de") is german
    assert book.get(PASSKEY_SIGNIN, "2", "de") is german
    assert book.languages(PASSKEY_SIGNIN, "2") == ("en", "de")
    assert german.sha256 != V2.sha256
    # Not a new version: nothing newer to agree to.
    assert [n.version for n in book.versions(PASSKEY_SIGNIN)] == ["1", "2"]
    assert book.material_change_since(PASSKEY_SIGNIN, "2") is False


def test_a_version_not_published_in_a_language_falls_back_to_english() -> None:
    book = NoticeBook([V1, V2, _german(V2)])
    assert book.get(PASSKEY_SIGNIN, "1", "de") is None
    assert book.in_language(V1, "de") is V1
    assert book.current(PASSKEY_SIGNIN, "fr") is V2


def test_a_translation_needs_its_english_original_first() -> None:
    with pytest.raises(ValueError, match="follows the English text"):
        NoticeBook([V1, _german(V2), V2])


def test_a_translation_cannot_change_whether_its_version_is_material() -> None:
    with pytest.raises(ValueError, match="material"):
        NoticeBook([V1, V1_1, _german(V1_1, material=True)])


def test_a_text_is_published_once_per_language() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        NoticeBook([V1, _german(V1), replace(_german(V1), text="Anders.")])


@pytest.mark.parametrize("language", ["", "German", "DE", "de_de_de_de", "e"])
def test_a_language_must_be_a_language_code(language: str) -> None:
    with pytest.raises(ValueError, match="language code"):
        replace(V1, language=language)


def test_every_notice_language_has_the_facts_block_in_it() -> None:
    """Each language a notice is published in has the facts block's wording in it: the
    block stands beside the notice in the notice's language."""
    from authdemo.consent import facts

    assert {text.language for text in NOTICES.texts(PASSKEY_SIGNIN)} <= set(facts.WORDING)


@pytest.mark.parametrize(
    ("days", "words"), [(1, "1 Tag"), (90, "90 Tage"), (365, "1 Jahr"), (3 * 365, "3 Jahre")]
)
def test_the_german_facts_say_periods_in_german_without_rounding(
    tmp_path: Path, days: int, words: str
) -> None:
    """Outside a request too: ``flask compliance facts --language de`` prints this block."""
    from authdemo.consent.facts import period

    with make_app(tmp_path).app_context():
        assert period(days, "de") == words


def test_the_facts_periods_are_not_said_outside_the_app() -> None:
    """Without the app's catalogues Flask-Babel says every period in English, silently; the
    German block would then record a hash of words no page shows."""
    from authdemo.consent.facts import period

    with pytest.raises(RuntimeError, match="catalogues"):
        period(90, "de")
