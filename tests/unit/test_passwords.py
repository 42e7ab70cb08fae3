"""Password rules (NIST SP 800-63B-4 §3.1.1.2) and argon2id hashing (OWASP)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from authdemo.errors import InvalidInput
from authdemo.fallback.passwords import (
    Hasher,
    PasswordPolicy,
    _blocklist,
    blocklist_size,
    check_new_password,
)

POLICY = PasswordPolicy(min_length=8, max_length=256)


def test_blocklist_has_tens_of_thousands_of_entries() -> None:
    assert blocklist_size() >= 20_000


def test_shipped_blocklist_is_zxcvbns_password_list() -> None:
    # authdemo/data/common-passwords.txt, written by tools/common_passwords.py: the same
    # passwords the app refused when it read them from zxcvbn, casefolded.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    expected = frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
    assert _blocklist() == expected


@pytest.mark.parametrize("common", ["password", "123456789", "qwertyuiop", "iloveyou", "Password"])
def test_common_passwords_are_refused_with_the_reason(common: str) -> None:
    with pytest.raises(InvalidInput, match="most common"):
        check_new_password(common, username="bob", policy=POLICY)


def test_short_passwords_are_refused_with_the_minimum_stated() -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        check_new_password("x7!kq2", username="bob", policy=POLICY)


def test_password_containing_the_username_is_refused() -> None:
    with pytest.raises(InvalidInput, match="username"):
        check_new_password("my name is marguerite!", username="marguerite", policy=POLICY)


def test_64_characters_and_more_are_accepted_with_spaces_and_any_script() -> None:
    long = "Зелёный чай и 🍵 under a blue sky, while ünïcödé rains over 64 chars"
    assert len(long) >= 64
    assert check_new_password(long, username="bob", policy=POLICY) == long


def test_no_composition_rules_lowercase_words_are_fine() -> None:
    assert check_new_password("purple tractor sings", username="bob", policy=POLICY)


def test_passwords_are_nfkc_normalised() -> None:
    fullwidth = "ｐｕｒｐｌｅ ｔｒａｃｔｏｒ"  # noqa: RUF001 - the point of the test
    assert check_new_password(fullwidth, username="bob", policy=POLICY) == "purple tractor"


def test_over_long_passwords_are_refused_before_hashing() -> None:
    with pytest.raises(InvalidInput, match="at most 256"):
        check_new_password("a b" * 200, username="bob", policy=POLICY)


@pytest.mark.parametrize("value", [None, "", 12345678, b"bytes password"])
def test_missing_or_non_text_passwords_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        check_new_password(value, username="bob", policy=POLICY)


def test_hashes_are_argon2id_at_owasp_parameters_or_stronger() -> None:
    hasher = Hasher(memory_kib=19456, time_cost=2, parallelism=1)
    params = extract_parameters(hasher.hash("purple tractor sings"))
    assert params.type is Type.ID
    assert params.memory_cost >= 19456
    assert params.time_cost >= 2
    assert params.parallelism == 1


def test_verify_accepts_the_right_password_only() -> None:
    hasher = Hasher(memory_kib=19456, time_cost=2, parallelism=1)
    stored = hasher.hash("purple tractor sings")
    assert hasher.verify(stored, "purple tractor sings")
    assert not hasher.verify(stored, "purple tractor sing")
    assert not hasher.verify("not a hash", "purple tractor sings")


def test_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(memory_cost=8192, time_cost=1, parallelism=1, type=Type.ID)
    hasher = Hasher(memory_kib=19456, time_cost=2, parallelism=1)
    assert hasher.needs_rehash(weak.hash("purple tractor sings"))
    assert not hasher.needs_rehash(hasher.hash("purple tractor sings"))
