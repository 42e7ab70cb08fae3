"""Keys derived from the configured data key, for secrets at rest and keyed hashes.

One 32-byte ``DATA_KEY`` (config) is expanded with HKDF-SHA256 into independent subkeys,
one per purpose, so a key used to encrypt TOTP secrets is never also an HMAC key.
Rotation: put the old key in ``DATA_KEY_PREVIOUS``; everything still decrypts/verifies,
new data uses the new key, and ``flask keys rotate`` re-encrypts what is stored.
See docs/decisions/0003-secrets-at-rest.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FORMAT_VERSION = 1
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4


class DecryptionError(Exception):
    """The ciphertext was not made by any configured key, or was altered."""


def derive(master: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"authdemo:{purpose}".encode()
    ).derive(master)


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"key-id" + key).digest()[:_KEY_ID_BYTES]


@dataclass(frozen=True, slots=True)
class SecretBox:
    """AES-256-GCM with a key id in each ciphertext, so older keys keep working.

    Layout: version (1) | key id (4) | nonce (12) | ciphertext+tag. ``context`` is bound
    as associated data (e.g. the user id), so a ciphertext copied onto another row fails.
    """

    keys: Sequence[bytes]  # current first

    @classmethod
    def from_master_keys(cls, masters: Iterable[bytes], purpose: str) -> SecretBox:
        return cls(tuple(derive(m, purpose) for m in masters))

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        key = self.keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext, context)
        return bytes([_FORMAT_VERSION]) + _key_id(key) + nonce + sealed

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        if len(blob) < 1 + _KEY_ID_BYTES + _NONCE_BYTES + 16 or blob[0] != _FORMAT_VERSION:
            raise DecryptionError("unknown ciphertext format")
        key_id = blob[1 : 1 + _KEY_ID_BYTES]
        nonce = blob[1 + _KEY_ID_BYTES : 1 + _KEY_ID_BYTES + _NONCE_BYTES]
        sealed = blob[1 + _KEY_ID_BYTES + _NONCE_BYTES :]
        for key in self.keys:
            if hmac.compare_digest(_key_id(key), key_id):
                try:
                    return AESGCM(key).decrypt(nonce, sealed, context)
                except InvalidTag as exc:
                    raise DecryptionError("ciphertext was altered") from exc
        raise DecryptionError("no configured key matches this ciphertext")

    def needs_rotation(self, blob: bytes) -> bool:
        return blob[1 : 1 + _KEY_ID_BYTES] != _key_id(self.keys[0])


@dataclass(frozen=True, slots=True)
class KeyedHash:
    """HMAC-SHA256 under a purpose-specific key; ``candidates`` covers rotated keys."""

    keys: Sequence[bytes]  # current first

    @classmethod
    def from_master_keys(cls, masters: Iterable[bytes], purpose: str) -> KeyedHash:
        return cls(tuple(derive(m, purpose) for m in masters))

    def digest(self, data: bytes) -> bytes:
        return hmac.new(self.keys[0], data, hashlib.sha256).digest()

    def candidates(self, data: bytes) -> list[bytes]:
        return [hmac.new(k, data, hashlib.sha256).digest() for k in self.keys]
