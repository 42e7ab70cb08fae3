"""The test suite's software authenticator is honest: py_webauthn accepts what it produces.

No app is involved. Each test generates options with py_webauthn (the server side), answers
them with :class:`SoftwareAuthenticator` (the browser side) and verifies the answer with
py_webauthn again, so the functional tests can trust the authenticator they drive. The
adversarial overrides are checked to break verification, each for the reason intended.
"""

import json
from typing import Any

import pytest
import webauthn
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import PublicKeyCredentialDescriptor

from tests.support.authenticator import (
    EDDSA,
    ES256,
    RS256,
    ExcludedCredentialError,
    NoCredentialError,
    RelyingPartyMismatchError,
    SoftwareAuthenticator,
    StoredCredential,
    UnsupportedAlgorithmError,
    b64url,
    b64url_decode,
    cose_public_key,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:5000"
USER_ID = b"\x01" * 16


# -- helpers: the relying party's half of each ceremony, done by py_webauthn -------------------


def registration_options(
    *, exclude: list[bytes] | None = None, algs: list[int] | None = None
) -> tuple[dict[str, Any], bytes]:
    """PublicKeyCredentialCreationOptionsJSON as a server sends it, and its challenge."""
    options = webauthn.generate_registration_options(
        rp_id=RP_ID,
        rp_name="authdemo",
        user_id=USER_ID,
        user_name="ada",
        exclude_credentials=[PublicKeyCredentialDescriptor(id=i) for i in exclude or []],
        supported_pub_key_algs=algs,  # type: ignore[arg-type]
    )
    return json.loads(webauthn.options_to_json(options)), options.challenge


def authentication_options(*, allow: list[bytes] | None = None) -> tuple[dict[str, Any], bytes]:
    """PublicKeyCredentialRequestOptionsJSON as a server sends it, and its challenge."""
    options = webauthn.generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=i) for i in allow or []],
    )
    return json.loads(webauthn.options_to_json(options)), options.challenge


def verify_registration(credential: dict[str, Any], challenge: bytes) -> Any:
    return webauthn.verify_registration_response(
        credential=credential,
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )


def verify_authentication(
    assertion: dict[str, Any], challenge: bytes, public_key: bytes, sign_count: int
) -> Any:
    return webauthn.verify_authentication_response(
        credential=assertion,
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=public_key,
        credential_current_sign_count=sign_count,
        require_user_verification=True,
    )


def register(authenticator: SoftwareAuthenticator) -> tuple[StoredCredential, bytes]:
    """Register honestly; return the stored credential and the public key the RP stored."""
    options, challenge = registration_options()
    verified = verify_registration(authenticator.create(options), challenge)
    return authenticator.credentials[-1], verified.credential_public_key


@pytest.fixture(scope="module")
def es256_pair() -> tuple[SoftwareAuthenticator, StoredCredential, bytes]:
    """An authenticator with one registered ES256 credential (cheap to sign with)."""
    authenticator = SoftwareAuthenticator()
    credential, public_key = register(authenticator)
    return authenticator, credential, public_key


# -- honest ceremonies -----------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [ES256, EDDSA, RS256], ids=["ES256", "EdDSA", "RS256"])
def test_register_then_sign_in_verifies_with_py_webauthn(algorithm: int) -> None:
    authenticator = SoftwareAuthenticator(algorithm=algorithm)
    options, challenge = registration_options()

    verified = verify_registration(authenticator.create(options), challenge)

    stored = authenticator.credentials[-1]
    assert stored.algorithm == algorithm
    assert stored.user_handle == USER_ID
    assert verified.credential_id == stored.credential_id
    assert verified.credential_public_key == cose_public_key(stored.private_key, algorithm)
    assert verified.fmt == "none"
    assert verified.user_verified is True
    assert verified.sign_count == 0

    sign_count = verified.sign_count
    for expected in (1, 2):
        options, challenge = authentication_options()
        assertion = authenticator.get(options)
        result = verify_authentication(
            assertion, challenge, verified.credential_public_key, sign_count
        )
        assert result.credential_id == stored.credential_id
        assert result.new_sign_count == expected
        assert b64url_decode(assertion["response"]["userHandle"]) == USER_ID
        sign_count = result.new_sign_count


def test_registration_json_has_the_browser_shape() -> None:
    authenticator = SoftwareAuthenticator(transports=["internal", "hybrid"])
    options, challenge = registration_options()

    credential = authenticator.create(options)

    assert set(credential) == {
        "id",
        "rawId",
        "type",
        "response",
        "clientExtensionResults",
        "authenticatorAttachment",
    }
    assert set(credential["response"]) == {"clientDataJSON", "attestationObject", "transports"}
    assert credential["type"] == "public-key"
    assert credential["authenticatorAttachment"] == "platform"
    assert credential["clientExtensionResults"] == {}
    assert credential["response"]["transports"] == ["internal", "hybrid"]
    assert credential["id"] == credential["rawId"] == authenticator.credentials[-1].id_b64url
    assert "=" not in credential["response"]["attestationObject"]
    client_data = b64url_decode(credential["response"]["clientDataJSON"])
    assert json.loads(client_data) == {
        "type": "webauthn.create",
        "challenge": b64url(challenge),
        "origin": ORIGIN,
        "crossOrigin": False,
    }


def test_assertion_json_has_the_browser_shape(es256_pair: Any) -> None:
    authenticator, _, _ = es256_pair
    options, _ = authentication_options()

    assertion = authenticator.get(options)

    assert set(assertion) == {
        "id",
        "rawId",
        "type",
        "response",
        "clientExtensionResults",
        "authenticatorAttachment",
    }
    assert set(assertion["response"]) == {
        "clientDataJSON",
        "authenticatorData",
        "signature",
        "userHandle",
    }
    client_data = json.loads(b64url_decode(assertion["response"]["clientDataJSON"]))
    assert client_data["type"] == "webauthn.get"


def test_allow_credentials_selects_the_listed_credential() -> None:
    authenticator = SoftwareAuthenticator()
    first, first_key = register(authenticator)
    register(authenticator)
    options, challenge = authentication_options(allow=[first.credential_id])

    assertion = authenticator.get(options)

    assert assertion["rawId"] == first.id_b64url
    verify_authentication(assertion, challenge, first_key, 0)


def test_empty_allow_credentials_uses_the_most_recent_credential() -> None:
    authenticator = SoftwareAuthenticator()
    register(authenticator)
    latest, _ = register(authenticator)

    assertion = authenticator.get(authentication_options()[0])

    assert assertion["rawId"] == latest.id_b64url


def test_explicit_credential_argument_wins(es256_pair: Any) -> None:
    authenticator, credential, public_key = es256_pair
    options, challenge = authentication_options()

    assertion = authenticator.get(options, credential=credential)

    verify_authentication(assertion, challenge, public_key, credential.sign_count - 1)


def test_sign_count_step_zero_always_reports_zero() -> None:
    authenticator = SoftwareAuthenticator(sign_count_step=0, backup_eligible=True)
    _, public_key = register(authenticator)
    for _ in range(2):
        options, challenge = authentication_options()
        result = verify_authentication(authenticator.get(options), challenge, public_key, 0)
        assert result.new_sign_count == 0
        assert result.credential_device_type == "multi_device"


def test_backup_flags_are_reported() -> None:
    authenticator = SoftwareAuthenticator(backup_eligible=True, backup_state=True)
    _, public_key = register(authenticator)
    options, challenge = authentication_options()

    result = verify_authentication(authenticator.get(options), challenge, public_key, 0)

    assert result.credential_backed_up is True


def test_publickey_wrapper_is_accepted() -> None:
    options, challenge = registration_options()
    verify_registration(SoftwareAuthenticator().create({"publicKey": options}), challenge)


# -- refusals a real browser would make --------------------------------------------------------


def test_exclude_credentials_raises() -> None:
    authenticator = SoftwareAuthenticator()
    existing, _ = register(authenticator)
    options, _ = registration_options(exclude=[existing.credential_id])

    with pytest.raises(ExcludedCredentialError):
        authenticator.create(options)


def test_exclude_credentials_of_another_authenticator_is_fine() -> None:
    options, challenge = registration_options(exclude=[b"someone else's passkey"])
    verify_registration(SoftwareAuthenticator().create(options), challenge)


def test_algorithm_not_offered_raises() -> None:
    options, _ = registration_options(algs=[ES256])
    with pytest.raises(UnsupportedAlgorithmError):
        SoftwareAuthenticator(algorithm=EDDSA).create(options)


def test_no_matching_credential_raises() -> None:
    authenticator = SoftwareAuthenticator()
    register(authenticator)
    with pytest.raises(NoCredentialError):
        authenticator.get(authentication_options(allow=[b"unknown"])[0])


def test_rp_id_that_does_not_fit_the_origin_raises() -> None:
    options, _ = registration_options()
    with pytest.raises(RelyingPartyMismatchError):
        SoftwareAuthenticator(origin="https://evil.example").create(options)


def test_unknown_override_raises() -> None:
    options, _ = registration_options()
    with pytest.raises(TypeError, match="bad_signature"):
        SoftwareAuthenticator().create(options, bad_signature=True)  # type: ignore[call-arg]


# -- adversarial overrides break exactly what they say ----------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "password"}, "Unexpected credential type|unexpected type"),
        ({"client_data_type": "webauthn.get"}, "Unexpected client data type"),
        ({"challenge": b"stale"}, "challenge was not expected"),
        ({"origin": "https://evil.example"}, "Unexpected client data origin"),
        ({"rp_id": "evil.example"}, "Unexpected RP ID hash"),
        ({"user_present": False}, "User presence was required"),
        ({"user_verified": False}, "User verification is required"),
        ({"authenticator_data_suffix": b"\x00"}, "attestationObject was malformed"),
        ({"truncate_authenticator_data": 36}, "attestationObject was malformed"),
        ({"attestation_object": b"\xff\x00"}, "attestationObject was malformed"),
        ({"algorithm": EDDSA}, "Unsupported credential public key alg"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_create_overrides_break_registration(overrides: dict[str, Any], message: str) -> None:
    options, challenge = registration_options(algs=[ES256, RS256])
    credential = SoftwareAuthenticator().create(options, **overrides)
    with pytest.raises(
        (InvalidRegistrationResponse, webauthn.helpers.exceptions.InvalidJSONStructure),
        match=message,
    ):
        webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            require_user_verification=True,
            supported_pub_key_algs=[ES256, RS256],  # type: ignore[list-item]
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bad_signature": True}, "Could not verify authentication signature"),
        ({"client_data_type": "webauthn.create"}, "Unexpected client data type"),
        ({"challenge": b"stale"}, "challenge was not expected"),
        ({"origin": "https://evil.example"}, "Unexpected client data origin"),
        ({"rp_id": "evil.example"}, "Unexpected RP ID hash"),
        ({"user_present": False}, "User was not present"),
        ({"user_verified": False}, "User verification is required"),
        ({"sign_count": 0}, "not greater than current count"),
        ({"authenticator_data_suffix": b"\x00"}, "authenticatorData was malformed"),
        ({"truncate_authenticator_data": 36}, "authenticatorData was malformed"),
        ({"algorithm": EDDSA}, "Could not verify authentication signature"),
        ({"credential_id": b"x" * 1024}, None),  # the RP must look the id up; py_webauthn can't
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_get_overrides_break_authentication(
    es256_pair: Any, overrides: dict[str, Any], message: str | None
) -> None:
    authenticator, credential, public_key = es256_pair
    options, challenge = authentication_options()
    current = credential.sign_count
    assertion = authenticator.get(options, **overrides)
    if message is None:
        assert len(b64url_decode(assertion["rawId"])) == 1024
        return
    with pytest.raises(InvalidAuthenticationResponse, match=message):
        verify_authentication(assertion, challenge, public_key, current)


def test_sign_with_another_credential_breaks_the_signature(es256_pair: Any) -> None:
    authenticator, credential, public_key = es256_pair
    other = SoftwareAuthenticator()
    register(other)
    options, challenge = authentication_options()
    current = credential.sign_count

    assertion = authenticator.get(options, sign_with=other.credentials[-1])

    with pytest.raises(InvalidAuthenticationResponse, match="Could not verify"):
        verify_authentication(assertion, challenge, public_key, current)


def test_overrides_alter_only_the_json_they_name(es256_pair: Any) -> None:
    authenticator, _, _ = es256_pair
    options, _ = authentication_options()

    assertion = authenticator.get(
        options,
        user_handle=None,
        cross_origin=None,
        top_origin="https://top.example",
        extra_fields={"surprise": 1},
        drop_fields=["response.signature", "authenticatorAttachment"],
    )

    assert "userHandle" not in assertion["response"]
    assert "signature" not in assertion["response"]
    assert "authenticatorAttachment" not in assertion
    assert assertion["surprise"] == 1
    client_data = json.loads(b64url_decode(assertion["response"]["clientDataJSON"]))
    assert "crossOrigin" not in client_data
    assert client_data["topOrigin"] == "https://top.example"


def test_drop_fields_with_a_missing_path_raises(es256_pair: Any) -> None:
    authenticator, _, _ = es256_pair
    with pytest.raises(KeyError, match=r"response\.nope"):
        authenticator.get(authentication_options()[0], drop_fields=["response.nope"])


def test_credential_id_override_registers_under_that_id() -> None:
    authenticator = SoftwareAuthenticator()
    options, challenge = registration_options()

    verified = verify_registration(
        authenticator.create(options, credential_id=b"\x07" * 1024), challenge
    )

    assert verified.credential_id == b"\x07" * 1024
    assert authenticator.credentials[-1].credential_id == b"\x07" * 1024


def test_b64url_round_trip_without_padding() -> None:
    for data in (b"", b"\xff", b"\xfb\xff", b"abc"):
        encoded = b64url(data)
        assert "=" not in encoded
        assert "+" not in encoded
        assert "/" not in encoded
        assert b64url_decode(encoded) == data
    assert b64url_decode("_w==") == b"\xff"
