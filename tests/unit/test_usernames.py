"""Username and display-name rules (issue 3 item 4; docs/decisions/0004-usernames.md).

A username identifies an account, so two names that look alike must not both exist:
NFKC + casefold, then a small ASCII alphabet. A display name is only shown, so any script
is welcome, but not invisible or control characters.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authdemo.errors import InvalidInput
from authdemo.models.user import DISPLAY_NAME_MAX, USERNAME_MAX
from authdemo.usernames import (
    USERNAME_MIN,
    normalise_display_name,
    normalise_username,
)

ALLOWED = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")


def fullwidth(ascii_text: str) -> str:
    """The same letters as FULLWIDTH LATIN compatibility characters (U+FF01-U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in ascii_text)


# --- usernames ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        (fullwidth("ALICE"), "alice"),  # compatibility forms (NFKC)
        (fullwidth("jo.bloggs"), "jo.bloggs"),
        ("STRASSE", "strasse"),
        ("straße", "strasse"),  # casefold, not lower(): "ß" and "ss" are one name
        ("\u212aelvin", "kelvin"),  # KELVIN SIGN is a compatibility form of "K"
        ("  bob  ", "bob"),
        ("a-b_c.d", "a-b_c.d"),
        ("x1" + "y" * (USERNAME_MAX - 2), "x1" + "y" * (USERNAME_MAX - 2)),
    ],
)
def test_username_is_normalised_with_nfkc_and_casefold(raw: str, expected: str) -> None:
    assert normalise_username(raw) == expected


def test_names_differing_only_in_case_or_width_are_the_same_username() -> None:
    variants = ["alice", "ALICE", "Alice", fullwidth("ALICE"), fullwidth("alice")]
    assert {normalise_username(v) for v in variants} == {"alice"}


def test_username_at_the_minimum_length_is_accepted() -> None:
    assert normalise_username("a" * USERNAME_MIN) == "a" * USERNAME_MIN


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "ab", "a" * (USERNAME_MAX + 1), "a" * 10_000],
    ids=["empty", "blank", "too-short", "too-long", "huge"],
)
def test_username_outside_the_length_limits_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalise_username(raw)
    assert error.value.field == "username"


def test_username_that_grows_too_long_under_nfkc_is_refused() -> None:
    # U+FDFA is one character that NFKC expands to 18.
    with pytest.raises(InvalidInput):
        normalise_username("\ufdfa\ufdfa")


@pytest.mark.parametrize(
    "raw",
    [
        "\u0430lice",  # CYRILLIC SMALL LETTER A, looks like Latin "a"
        "p\u0430ypal",
        "\u03bfscar",  # GREEK SMALL LETTER OMICRON, looks like "o"
        "\u0131nbox",  # LATIN SMALL LETTER DOTLESS I
        "\u0130stanbul",  # casefolds to "i" + COMBINING DOT ABOVE
        "alice\u0301",  # a combining accent
        "jos\u00e9",
    ],
)
def test_username_with_a_confusable_or_non_ascii_letter_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="display name"):
        normalise_username(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "ali\x00ce",
        "ali\nce",
        "ali\tce",
        "alice\x7f",
        "ali\u200bce",  # ZERO WIDTH SPACE
        "ali\u200dce",  # ZERO WIDTH JOINER
        "\u202ealice",  # RIGHT-TO-LEFT OVERRIDE
        "ali ce",
        "alice@example.com",
        "<script>",
        "robert'); drop table users;--",
    ],
)
def test_username_with_control_invisible_or_markup_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_username(raw)


@pytest.mark.parametrize("raw", [".alice", "alice.", "-alice", "alice_", "..."])
def test_username_must_start_and_end_with_a_letter_or_digit(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_username(raw)


@pytest.mark.parametrize("raw", [None, 42, ["alice"], {"name": "alice"}, b"alice"])
def test_username_that_is_not_text_is_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        normalise_username(raw)


@given(st.text(max_size=80))
def test_normalised_username_is_idempotent_and_in_the_allowed_alphabet(raw: str) -> None:
    # Any other exception than InvalidInput fails the test, too.
    try:
        name = normalise_username(raw)
    except InvalidInput:
        return
    assert ALLOWED.fullmatch(name)
    assert USERNAME_MIN <= len(name) <= USERNAME_MAX
    assert normalise_username(name) == name


# --- display names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice Liddell", "Alice Liddell"),
        ("Алиса", "Алиса"),  # any script is fine here: it never identifies anyone
        ("山田 太郎", "山田 太郎"),
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # NFKC composes the accent
        ("  Ada   Lovelace  ", "Ada Lovelace"),
        ("Ada\tLovelace", "Ada Lovelace"),
        ("x" * DISPLAY_NAME_MAX, "x" * DISPLAY_NAME_MAX),
    ],
)
def test_display_name_keeps_any_script_and_collapses_spaces(raw: str, expected: str) -> None:
    assert normalise_display_name(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_display_name_means_none(raw: str | None) -> None:
    assert normalise_display_name(raw) is None


def test_display_name_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        normalise_display_name("x" * (DISPLAY_NAME_MAX + 1))
    assert error.value.field == "display_name"


@pytest.mark.parametrize(
    "raw",
    [
        "Alice\x00",
        "Alice\x07",
        "\u202eecilA",  # RIGHT-TO-LEFT OVERRIDE: text that reads backwards
        "Ali\u200bce",  # ZERO WIDTH SPACE
        "Alice\ufeff",  # BYTE ORDER MARK
        "Alice\ue000",  # private use
        "Alice\U000e0041",  # TAG LATIN CAPITAL LETTER A (invisible)
    ],
)
def test_display_name_with_control_or_format_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_display_name(raw)


@pytest.mark.parametrize("raw", [42, ["Alice"], b"Alice"])
def test_display_name_that_is_not_text_is_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        normalise_display_name(raw)


@given(st.text(max_size=100))
def test_display_name_rules_are_idempotent(raw: str) -> None:
    try:
        name = normalise_display_name(raw)
    except InvalidInput:
        return
    assert normalise_display_name(name) == name


def test_display_names_may_use_zero_width_joiners() -> None:
    persian = "مهر\u200cناز"  # noqa: RUF001 - a Persian name written with ZWNJ
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalise_display_name(persian) == persian
    assert normalise_display_name(family) == family
