"""base64url without padding (RFC 4648 §5), the one encoding of binary values in this app.

WebAuthn's JSON forms (L3 §5.1, ``toJSON()``), the Signal API options, the export file and
the data keys in the environment all use it. The standard library's decoder is lenient: it
accepts padding, and with ``urlsafe_b64decode`` it silently drops characters outside the
alphabet. ``decode`` accepts only the canonical form, the exact text ``encode`` produces,
so two different strings never stand for the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: object) -> bytes:
    """The bytes of canonical unpadded base64url text; ``ValueError`` for anything else
    (not text, padding, other characters, a length of 4n + 1, stray bits at the end)."""
    if not isinstance(text, str) or not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not canonical unpadded base64url") from exc
    if encode(data) != text:
        raise ValueError("not canonical unpadded base64url")
    return data


def max_length(byte_count: int) -> int:
    """The length of the encoding of ``byte_count`` bytes (to refuse long text before
    decoding it)."""
    return (byte_count * 4 + 2) // 3
