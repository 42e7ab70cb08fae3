"""Default passkey names tell a person's passkeys apart (issue 17 item 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from authdemo.models.passkey import PASSKEY_NAME_MAX
from authdemo.passkeys.names import default_name
from authdemo.passkeys.providers import ZERO_AAGUID
from tests.conftest import make_app

ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
DEC_4 = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


def name(
    aaguid: str = ZERO_AAGUID, transports: tuple[str, ...] = ("internal",), *taken: str
) -> str:
    return default_name(aaguid=aaguid, transports=transports, created_at=DEC_4, taken=set(taken))


def test_a_known_provider_names_the_passkey() -> None:
    assert name(ICLOUD) == "iCloud Keychain"


def test_a_second_passkey_of_the_same_provider_gets_the_day_it_was_made() -> None:
    assert (
        name(ICLOUD, ("internal", "hybrid"), "iCloud Keychain") == "iCloud Keychain from 4 Dec 2026"
    )


def test_a_zero_or_unknown_aaguid_gives_the_day_instead_of_a_bare_passkey() -> None:
    assert name() == "Passkey from 4 Dec 2026"
    assert name("01234567-89ab-cdef-0123-456789abcdef") == "Passkey from 4 Dec 2026"


def test_what_the_transports_tell_is_said_when_the_provider_is_unknown() -> None:
    assert name(ZERO_AAGUID, ("usb", "nfc")) == "Security key from 4 Dec 2026"
    assert name(ZERO_AAGUID, ("hybrid",)) == "Passkey on a phone from 4 Dec 2026"
    assert name(ZERO_AAGUID, ("hybrid", "internal")) == "Passkey from 4 Dec 2026"


def test_two_made_the_same_day_are_numbered_and_no_two_names_are_the_same() -> None:
    names: list[str] = []
    for _ in range(4):
        names.append(name(ZERO_AAGUID, ("internal",), *names))
    assert names == [
        "Passkey from 4 Dec 2026",
        "Passkey from 4 Dec 2026 (2)",
        "Passkey from 4 Dec 2026 (3)",
        "Passkey from 4 Dec 2026 (4)",
    ]
    icloud: list[str] = []
    for _ in range(3):
        icloud.append(name(ICLOUD, ("internal",), *icloud))
    assert len(set(icloud)) == 3


def test_every_default_name_fits_the_column() -> None:
    longest = name(
        ZERO_AAGUID,
        ("hybrid",),
        *[f"Passkey on a phone from 4 Dec 2026 ({n})" for n in range(2, 999)],
    )
    assert len(longest) <= PASSKEY_NAME_MAX


def test_a_name_is_made_in_the_persons_language(tmp_path: Path) -> None:
    """A German reader's new passkey: the provider by the name its maker uses in German,
    the kind and the day in German."""
    app = make_app(tmp_path, LANGUAGES="en,de")
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert name(ICLOUD) == "iCloud-Schlüsselbund"
        assert name(ICLOUD, ("internal",), "iCloud-Schlüsselbund") == (
            "iCloud-Schlüsselbund vom 4. Dez. 2026"
        )
        assert name(ZERO_AAGUID, ("usb",)) == "Sicherheitsschlüssel vom 4. Dez. 2026"
        assert name() == "Passkey vom 4. Dez. 2026"
