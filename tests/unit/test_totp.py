"""One-time codes: RFC 6238 test vectors checked independently of pyotp, and the
at-most-once rule."""

from __future__ import annotations

import hashlib
import hmac
import struct
from datetime import UTC, datetime

import pyotp
import pytest

from authdemo.fallback import totp

# RFC 6238 Appendix B: SHA-1 seed "12345678901234567890", 8 digits, T0 = 0, X = 30.
RFC6238_SHA1_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
SEED = b"12345678901234567890"


def hotp_rfc4226(key: bytes, counter: int, digits: int) -> str:
    """RFC 4226 §5.3 written out from the text, to check pyotp against."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


@pytest.mark.parametrize(("unix_time", "expected"), RFC6238_SHA1_VECTORS)
def test_reference_implementation_matches_rfc6238_vectors(unix_time: int, expected: str) -> None:
    assert hotp_rfc4226(SEED, unix_time // 30, 8) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC6238_SHA1_VECTORS)
def test_pyotp_matches_rfc6238_vectors(unix_time: int, expected: str) -> None:
    import base64

    secret = base64.b32encode(SEED).decode()
    assert pyotp.TOTP(secret, digits=8).at(unix_time) == expected


def test_six_digit_codes_match_the_reference_for_our_secrets() -> None:
    import base64

    secret = totp.new_secret()
    key = base64.b32decode(secret)
    for unix_time in (0, 59, 1_700_000_000, 2_000_000_000):
        assert pyotp.TOTP(secret).at(unix_time) == hotp_rfc4226(key, unix_time // 30, 6)


def test_new_secret_has_160_bits() -> None:
    import base64

    assert len(base64.b32decode(totp.new_secret())) == 20


def test_matching_step_accepts_one_step_either_side_and_no_further() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 1, 1, 12, 0, 15, tzinfo=UTC)
    step = int(now.timestamp()) // 30
    generator = pyotp.TOTP(secret)
    for delta in (-1, 0, 1):
        code = generator.generate_otp(step + delta)
        assert totp.matching_step(secret, code, now=now, window=1) == step + delta
    for delta in (-2, 2):
        code = generator.generate_otp(step + delta)
        if code not in {generator.generate_otp(step + d) for d in (-1, 0, 1)}:
            assert totp.matching_step(secret, code, now=now, window=1) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("123456", "123456"), ("123 456", "123456"), ("123-456", "123456"), (" 123456 ", "123456")],
)
def test_codes_are_normalised_from_what_people_type(raw: str, expected: str) -> None:
    assert totp.normalise_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", None, 123456, "9" * 40]
)
def test_malformed_codes_are_refused(raw: object) -> None:
    assert totp.normalise_code(raw) is None


def test_qr_code_is_a_local_svg_data_uri_without_remote_references() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), username="bob", issuer="authdemo")
    data_uri = totp.qr_svg_data_uri(uri)
    assert data_uri.startswith("data:image/svg+xml")
    assert "http://" not in data_uri.split(",", 1)[1].replace("http://www.w3.org", "")
