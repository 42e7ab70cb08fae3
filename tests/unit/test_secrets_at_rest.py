"""Secrets at rest: authenticated encryption bound to its row, and key rotation."""

from __future__ import annotations

import os

import pytest

from authdemo.secrets_at_rest import DecryptionError, KeyedHash, SecretBox

OLD, NEW = os.urandom(32), os.urandom(32)


def test_ciphertext_round_trips_and_hides_the_plaintext() -> None:
    box = SecretBox.from_master_keys([NEW], "totp-secret")
    blob = box.encrypt(b"JBSWY3DPEHPK3PXP", context=b"user:1")
    assert b"JBSWY3DPEHPK3PXP" not in blob
    assert box.decrypt(blob, context=b"user:1") == b"JBSWY3DPEHPK3PXP"


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    box = SecretBox.from_master_keys([NEW], "totp-secret")
    blob = box.encrypt(b"secret", context=b"user:1")
    with pytest.raises(DecryptionError):
        box.decrypt(blob, context=b"user:2")


def test_tampered_ciphertext_is_refused() -> None:
    box = SecretBox.from_master_keys([NEW], "totp-secret")
    blob = bytearray(box.encrypt(b"secret", context=b"c"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        box.decrypt(bytes(blob), context=b"c")


def test_rotation_old_ciphertexts_still_decrypt_and_new_ones_use_the_new_key() -> None:
    before = SecretBox.from_master_keys([OLD], "totp-secret")
    blob = before.encrypt(b"secret", context=b"c")
    after = SecretBox.from_master_keys([NEW, OLD], "totp-secret")
    assert after.decrypt(blob, context=b"c") == b"secret"
    assert after.needs_rotation(blob)
    fresh = after.encrypt(b"secret", context=b"c")
    assert not after.needs_rotation(fresh)
    with pytest.raises(DecryptionError):
        before.decrypt(fresh, context=b"c")


def test_a_removed_key_can_no_longer_decrypt() -> None:
    blob = SecretBox.from_master_keys([OLD], "totp-secret").encrypt(b"s", context=b"c")
    with pytest.raises(DecryptionError):
        SecretBox.from_master_keys([NEW], "totp-secret").decrypt(blob, context=b"c")


def test_purposes_get_independent_keys() -> None:
    a = KeyedHash.from_master_keys([NEW], "recovery-code").digest(b"x")
    b = KeyedHash.from_master_keys([NEW], "pseudonym").digest(b"x")
    assert a != b


def test_keyed_hash_candidates_cover_previous_keys() -> None:
    old_digest = KeyedHash.from_master_keys([OLD], "recovery-code").digest(b"code")
    rotated = KeyedHash.from_master_keys([NEW, OLD], "recovery-code")
    assert old_digest in rotated.candidates(b"code")
    assert rotated.digest(b"code") != old_digest
