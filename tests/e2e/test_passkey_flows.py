"""Passkey sign-up and sign-in through the real pages, in Chromium, with the Chrome
DevTools virtual authenticator in place of the device's face / fingerprint check.

Each ceremony starts from a real click, as a person's would (WebAuthn needs a user
gesture), and each test waits for what the page itself shows. After a navigation the
helpers wait for the page to load: until its ES module has run, the buttons on it do
nothing.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from playwright.sync_api import Page, Request, expect
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
)

from tests.e2e.harness import LiveServer, VirtualAuthenticators

NOT_CREATED = (
    "No passkey was created: the request was cancelled, or your device could not check "
    "that it's you. You can try again."
)
NOT_SIGNED_IN = (
    "The passkey request was cancelled, or no passkey for this site was found on this "
    "device. You can try again."
)
CONSENT_NEEDED = (
    "Please tick the box to agree to passkey sign-in first, or choose the password option."
)

#: The app offers ES256, EdDSA and RS256 in that order, so Chromium picks ES256. These
#: configurations offer one COSE algorithm (IANA identifier) at a time, to test each.
ONE_ALGORITHM = [
    pytest.param({"ALGORITHMS": "-7"}, id="ES256"),
    pytest.param({"ALGORITHMS": "-8"}, id="EdDSA"),
    pytest.param({"ALGORITHMS": "-257"}, id="RS256"),
]


# --- what a person does ---------------------------------------------------------------


def choose_username(page: Page, username: str) -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    page.wait_for_load_state()


def create_passkey(page: Page) -> None:
    """On the opt-in screen: tick the consent box and create the passkey."""
    page.check("#passkey-consent")
    page.click("#create-passkey")


def sign_up(page: Page, username: str) -> None:
    choose_username(page, username)
    create_passkey(page)
    expect_account_of(page, username)


def sign_out(page: Page) -> None:
    page.click("#signout")
    expect(page).to_have_url(re.compile(r"/signin\?signed_out=1$"))
    page.wait_for_load_state()


def expect_account_of(page: Page, username: str) -> None:
    """Signed in as ``username``, on the account home, its scripts loaded."""
    expect(page).to_have_url(re.compile(r"^[^?]*/account$"))
    expect(page.locator("#signed-in-as")).to_have_text(username)
    page.wait_for_load_state()


def expect_error_status(page: Page, message: str) -> None:
    status = page.locator("#status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_have_text(message)
    # An aria-live region: screen readers announce the message without moving focus.
    expect(status).to_have_attribute("aria-live", "polite")


def api_calls(page: Page) -> list[str]:
    """Record the page's calls to the JSON API from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if "/api/" in request.url:
            seen.append(request.url)

    page.on("request", record)
    return seen


# --- sign-up and sign-in --------------------------------------------------------------


def test_sign_up_sign_out_and_sign_in_again_with_a_passkey(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")

    sign_out(page)
    page.goto("/account")  # goto waits for the page to load
    expect(page).to_have_url(re.compile(r"/signin\?next="))

    page.click("#signin-passkey")
    expect_account_of(page, "alice")


def test_sign_up_without_ticking_consent_starts_no_passkey_ceremony(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    authenticator = virtual_authenticator.add()
    choose_username(page, "alice")
    calls = api_calls(page)

    page.click("#create-passkey")

    expect_error_status(page, CONSENT_NEEDED)
    consent = page.locator("#passkey-consent")
    expect(consent).to_be_focused()
    expect(consent).to_have_attribute("aria-invalid", "true")
    assert calls == []
    assert virtual_authenticator.credentials(authenticator) == []
    assert live_server.query("SELECT count(*) FROM used_challenges") == [(0,)]
    assert live_server.query("SELECT count(*) FROM users") == [(0,)]


def test_failed_face_or_fingerprint_check_at_sign_up_shows_a_plain_message_and_can_be_retried(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    authenticator = virtual_authenticator.add(isUserVerified=False)
    choose_username(page, "alice")

    create_passkey(page)

    expect_error_status(page, NOT_CREATED)
    expect(page.locator("#create-passkey")).to_be_enabled()
    assert live_server.query("SELECT count(*) FROM users") == [(0,)]

    virtual_authenticator.set_user_verified(authenticator, True)
    page.click("#create-passkey")
    expect_account_of(page, "alice")


def test_sign_in_with_no_passkey_on_the_device_shows_a_plain_message(
    page: Page, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    page.goto("/signin")

    page.click("#signin-passkey")

    expect_error_status(page, NOT_SIGNED_IN)
    expect(page.locator("#signin-passkey")).to_be_enabled()
    expect(page).to_have_url(re.compile(r"/signin$"))


@pytest.mark.parametrize("app_config", ONE_ALGORITHM)
def test_sign_up_and_sign_in_work_with_each_offered_algorithm(
    app_config: dict[str, str],
    page: Page,
    virtual_authenticator: VirtualAuthenticators,
    live_server: LiveServer,
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")
    sign_out(page)
    page.click("#signin-passkey")
    expect_account_of(page, "alice")

    assert live_server.query("SELECT algorithm FROM passkeys") == [(int(app_config["ALGORITHMS"]),)]


# --- what the server keeps ------------------------------------------------------------


def secret_parts(private_key: Any) -> list[bytes]:
    """The secret numbers inside a private key, as the bytes a leak would contain."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return [private_key.private_numbers().private_value.to_bytes(32, "big")]
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return [raw]
    assert isinstance(private_key, rsa.RSAPrivateKey)
    numbers = private_key.private_numbers()
    return [
        value.to_bytes((value.bit_length() + 7) // 8, "big")
        for value in (numbers.d, numbers.p, numbers.q)
    ]


def spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def stored_forms(blob: bytes) -> list[bytes]:
    """The ways a server could keep a blob: raw in a BLOB column, or as text (hex,
    base64, or the unpadded base64url the browser sends)."""
    return [
        blob,
        blob.hex().encode(),
        base64.b64encode(blob).rstrip(b"="),
        base64.urlsafe_b64encode(blob).rstrip(b"="),
    ]


def found_in(on_disk: bytes, blobs: dict[str, bytes]) -> list[str]:
    """The names of the blobs that occur in ``on_disk`` in any of their stored forms."""
    return [name for name, blob in blobs.items() if any(f in on_disk for f in stored_forms(blob))]


#: Everything the passkeys table may hold (the issue's data model, nothing from the
#: attestation beyond the public key, AAGUID, transports and backup flags).
PASSKEY_COLUMNS = {
    "id",
    "user_id",
    "credential_id",
    "public_key",
    "algorithm",
    "sign_count",
    "transports",
    "aaguid",
    "backup_eligible",
    "backup_state",
    "name",
    "created_at",
    "last_used_at",
}
#: Column names that would mean biometric data or attestation material is being kept.
FORBIDDEN_COLUMN = re.compile(
    r"(^|_)(biometrics?|fingerprint|face|attestation|att_stmt|x5c|certificates?|"
    r"private_key|client_data|authenticator_data|auth_data)(_|$)"
)


def test_database_holds_the_public_key_and_neither_the_private_key_nor_anything_biometric(
    page: Page,
    virtual_authenticator: VirtualAuthenticators,
    live_server: LiveServer,
) -> None:
    authenticator = virtual_authenticator.add()
    choose_username(page, "alice")
    with page.expect_request("**/api/passkeys/sign-up/verify") as sent:
        create_passkey(page)
    expect_account_of(page, "alice")
    sign_out(page)
    page.click("#signin-passkey")
    expect_account_of(page, "alice")

    [credential] = virtual_authenticator.credentials(authenticator)
    pkcs8 = base64.b64decode(credential["privateKey"])
    private_key = serialization.load_der_private_key(pkcs8, password=None)
    on_disk = live_server.database_bytes()
    # The scan sees what the server did store (so the checks below cannot pass vacuously).
    assert found_in(on_disk, {"id": base64.b64decode(credential["credentialId"])}) == ["id"]

    # 1. The private key never reached the server: not whole, not its secret numbers.
    secrets = {"PKCS#8 private key": pkcs8}
    secrets.update({f"secret number {i}": part for i, part in enumerate(secret_parts(private_key))})
    assert found_in(on_disk, secrets) == []

    # 2. What is stored is exactly the public half of that key pair.
    [(public_key,)] = live_server.query("SELECT public_key FROM passkeys")
    stored = decoded_public_key_to_cryptography(decode_credential_public_key(public_key))
    assert spki(stored) == spki(private_key.public_key())

    # 3. The registration message itself is not kept: no attestation object, no
    #    authenticator data, no client data (the browser sent them; the server checked
    #    them and kept only the fields above).
    body = sent.value.post_data_json
    assert body is not None
    registration = body["response"]
    attestation_object = b64url_decode(registration["attestationObject"])
    sent_blobs = {
        "attestationObject": attestation_object,
        "authenticatorData": cbor2.loads(attestation_object)["authData"],
        "clientDataJSON": b64url_decode(registration["clientDataJSON"]),
    }
    assert found_in(on_disk, sent_blobs) == []

    # 4. No table has anywhere to put biometric data, certificates or attestations.
    tables = [
        name
        for (name,) in live_server.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    columns = {
        table: {row[1] for row in live_server.query(f"PRAGMA table_info({table})")}
        for table in tables
    }
    assert columns["passkeys"] == PASSKEY_COLUMNS
    suspicious = {
        f"{table}.{column}"
        for table, names in columns.items()
        for column in names
        if FORBIDDEN_COLUMN.search(column)
    }
    assert suspicious == set(), columns
