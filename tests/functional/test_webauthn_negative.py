"""The negative WebAuthn suite: every relying-party check refuses what it must (issue 9 item 1).

One test per verification step of WebAuthn Level 3 §7.1 (registration) and §7.2
(authentication), plus the checks the relying party adds around py_webauthn (issue 3
item 6). Each test drives the real HTTP endpoints with the suite's software authenticator,
breaking exactly one thing through one of its overrides, and proves three things:

* the response is a 4xx RFC 9457 ``application/problem+json`` with a generic message
  (the same words whatever the reason, so nothing hints whether an account exists);
* **no account data changed**: every table but ``ceremonies`` and ``audit_events`` is
  identical before and after, no ceremony was created, at most the one presented was
  consumed, and the only audit rows added are the ones about this attempt;
* the refusal came from the check under test: the internal reason code (and for the
  cryptographic steps, py_webauthn's own message) is recorded by a spy on the error type,
  so a test cannot pass because some unrelated check happened to refuse first.

The shared helpers (``Watch``, ``assert_refused``, the flows) are in passkey_support.py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import pytest
from flask import Flask
from sqlalchemy import delete
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import Passkey
from tests.conftest import ORIGIN, Browser, make_app
from tests.functional.passkey_support import (
    ADD_OPTIONS,
    ADD_VERIFY,
    PASSKEY_NOT_ACCEPTED,
    SIGN_IN_VERIFY,
    SIGN_UP_VERIFY,
    Account,
    Attempt,
    Watch,
    assert_problem,
    assert_refused,
    browser_with_cookie,
    cookie_value,
    is_signed_in,
    registration_options,
    sign_up,
    stranger_credential,
    with_response_field,
)
from tests.support.authenticator import (
    EDDSA,
    ES256,
    RS256,
    SoftwareAuthenticator,
    b64url,
    b64url_decode,
)


@pytest.fixture
def watch(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Watch:
    return Watch(app, monkeypatch)


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    return sign_up(app, browser, authenticator, "alice")


@pytest.fixture
def bob(app: Flask, new_browser: Callable[[], Browser]) -> Account:
    return sign_up(app, new_browser(), SoftwareAuthenticator(rp_id="localhost"), "bob")


# Non-canonical or foreign encodings of base64url. py_webauthn's own decoder accepts
# most of them (it pads and ignores stray characters); ours must not.
def _bad_base64url(valid: str) -> dict[str, str]:
    # Unpadded base64url of n bytes ends in a character with unused low bits unless
    # 3 divides n; setting one of those bits gives the same bytes, non-canonically.
    if len(valid) % 4 == 0:
        valid = valid[:-1]  # 3 fewer bits: now the last character has 2 unused ones
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    non_canonical = valid[:-1] + alphabet[alphabet.index(valid[-1]) | 0b01]
    return {
        "padded": valid + "=",
        "standard-alphabet": valid.replace("-", "+").replace("_", "/") + "+/",
        "whitespace": valid[:10] + " " + valid[10:],
        "newline": valid[:10] + "\n" + valid[10:],
        "non-canonical-bits": non_canonical,
        # No base64 text has a length of 4n + 1.
        "impossible-length": valid + "A" * ((1 - len(valid)) % 4 or 4),
        "not-a-string": 12345,  # type: ignore[dict-item]
    }


BAD_BASE64URL_CASES = list(_bad_base64url("A" * 42 + "Q"))


# =========================================================================================
# Registration (WebAuthn L3 §7.1), through the sign-up endpoints
# =========================================================================================


def post_sign_up(
    watch: Watch, browser: Browser, credential: Any, **kwargs: Any
) -> tuple[TestResponse, Attempt]:
    with watch.attempt() as attempt:
        response = browser.post_json(SIGN_UP_VERIFY, credential, **kwargs)
    assert not is_signed_in(browser)
    return response, attempt


def test_registration_with_wrong_credential_type_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    credential = authenticator.create(registration_options(browser), type="password")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["wrong_credential_type"]
    assert attempt.audit == []


def test_registration_with_client_data_type_get_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 7: C.type must be "webauthn.create".
    options = registration_options(browser)
    credential = authenticator.create(options, client_data_type="webauthn.get")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["verification_failed"]
    assert "type" in attempt.verifier_error


def test_registration_with_challenge_mismatch_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 8.
    options = registration_options(browser)
    credential = authenticator.create(options, challenge=secrets.token_bytes(32))
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]


def _other_spellings(challenge: str) -> dict[str, str]:
    """Texts a lenient decoder reads as the same bytes as ``challenge`` (or nearly): the
    spec asks for *the* base64url encoding, so each must be refused."""
    cases = {k: v for k, v in _bad_base64url(challenge).items() if isinstance(v, str)}
    cases["percent-encoded"] = challenge[:5] + "%41" + challenge[6:]
    return cases


CHALLENGE_SPELLINGS = sorted(_other_spellings(b64url(bytes(32))))


@pytest.mark.parametrize("spelling", CHALLENGE_SPELLINGS)
def test_registration_with_another_spelling_of_the_challenge_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, spelling: str
) -> None:
    # §7.1 step 8: C.challenge must *equal* the base64url encoding of the challenge.
    # py_webauthn decodes it leniently and compares bytes; we compare the text.
    options = registration_options(browser)
    text = _other_spellings(options["challenge"])[spelling]
    credential = authenticator.create(options, challenge_text=text)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]


def test_registration_with_the_exact_challenge_text_is_accepted(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # The positive control of the test above: the same override, the canonical text.
    options = registration_options(browser)
    credential = authenticator.create(options, challenge_text=options["challenge"])
    assert browser.post_json(SIGN_UP_VERIFY, credential).status_code == 200


def test_registration_with_reused_challenge_is_refused(
    app: Flask, watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # Someone who captured the cookie and the response replays both after the sign-up.
    credential = authenticator.create(registration_options(browser))
    captured_cookie = cookie_value(browser)
    assert browser.post_json(SIGN_UP_VERIFY, credential).status_code == 200
    replayer = browser_with_cookie(app, captured_cookie)
    response, attempt = post_sign_up(watch, replayer, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_unknown_or_used"]


def test_registration_with_expired_challenge_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    credential = authenticator.create(registration_options(browser))
    clock.advance(seconds=301)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_expired"]


def test_registration_with_challenge_of_another_session_is_refused(
    watch: Watch,
    browser: Browser,
    new_browser: Callable[[], Browser],
    authenticator: SoftwareAuthenticator,
) -> None:
    credential = authenticator.create(registration_options(browser, "victim"))
    attacker = new_browser()
    registration_options(attacker, "attacker")
    response, attempt = post_sign_up(watch, attacker, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]


def test_registration_without_any_ceremony_is_refused(
    watch: Watch,
    browser: Browser,
    new_browser: Callable[[], Browser],
    authenticator: SoftwareAuthenticator,
) -> None:
    # The other browser chose a username but never asked for options.
    credential = authenticator.create(registration_options(browser, "victim"))
    other = new_browser()
    assert other.choose_username("attacker").status_code == 302
    response, attempt = post_sign_up(watch, other, credential)
    assert_refused(response)
    assert attempt.reasons == ["no_ceremony"]


def test_registration_from_another_origin_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 9.
    options = registration_options(browser)
    credential = authenticator.create(options, origin="https://evil.example")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert "origin" in attempt.verifier_error.lower()


def test_registration_with_cross_origin_true_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 10: this site is never registered from inside another site's frame.
    credential = authenticator.create(registration_options(browser), cross_origin=True)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["cross_origin"]


def test_registration_with_top_origin_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, top_origin="https://evil.example")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["top_origin_present"]


def test_registration_with_rp_id_hash_of_another_site_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 14.
    credential = authenticator.create(registration_options(browser), rp_id="evil.example")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert "rp id" in attempt.verifier_error.lower()


def test_registration_without_user_presence_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 15.
    credential = authenticator.create(registration_options(browser), user_present=False)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert "present" in attempt.verifier_error.lower()


def test_registration_with_backup_state_but_not_eligible_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §6.1.3 / §7.1 step 17: BS without BE is an invalid combination.
    credential = authenticator.create(
        registration_options(browser), backup_eligible=False, backup_state=True
    )
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["verification_failed"]


def test_registration_with_unsupported_algorithm_is_refused(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # §7.1 step 20: the key's algorithm must be one of pubKeyCredParams.
    app = make_app(tmp_path, clock, ALGORITHMS="-7")
    watch = Watch(app, monkeypatch)
    browser = Browser(app.test_client())
    options = registration_options(browser)
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [ES256]
    credential = SoftwareAuthenticator().create(options, algorithm=EDDSA)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert "alg" in attempt.verifier_error.lower()


def test_registration_with_credential_id_over_1023_bytes_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 25.
    options = registration_options(browser)
    credential = authenticator.create(options, credential_id=secrets.token_bytes(1024))
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["credential_id_too_long"]


def test_registration_with_credential_id_of_1023_bytes_is_accepted(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, credential_id=secrets.token_bytes(1023))
    assert browser.post_json(SIGN_UP_VERIFY, credential).status_code == 200


def test_registration_with_huge_credential_id_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, credential_id=secrets.token_bytes(5000))
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["field_too_long"]


def test_registration_of_credential_id_registered_to_another_account_is_refused(
    watch: Watch, alice: Account, new_browser: Callable[[], Browser]
) -> None:
    # §7.1 step 26: someone else's credential id is never taken over.
    browser = new_browser()
    options = registration_options(browser, "mallory")
    mallory = SoftwareAuthenticator()
    credential = mallory.create(options, credential_id=alice.credential.credential_id)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["credential_already_registered"]


def test_registration_of_credential_id_already_on_this_account_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    options = browser.post_json(ADD_OPTIONS, browser.consent()).get_json()
    # A second device that (wrongly) reuses the first passkey's id, with another key.
    credential = SoftwareAuthenticator().create(
        options, credential_id=alice.credential.credential_id
    )
    with watch.attempt() as attempt:
        response = browser.post_json(ADD_VERIFY, credential)
    assert_refused(response)
    assert attempt.reasons == ["credential_already_registered"]


def test_add_passkey_with_credential_id_of_another_account_is_refused(
    watch: Watch, alice: Account, bob: Account, browser: Browser
) -> None:
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    options = browser.post_json(ADD_OPTIONS, browser.consent()).get_json()
    credential = SoftwareAuthenticator().create(options, credential_id=bob.credential.credential_id)
    with watch.attempt() as attempt:
        response = browser.post_json(ADD_VERIFY, credential)
    assert_refused(response)
    assert attempt.reasons == ["credential_already_registered"]


def test_registration_with_malformed_cbor_attestation_object_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, attestation_object=b"\xa3\x63fmt\xff\x00garbage")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["verification_failed"]


@pytest.mark.parametrize(
    "attestation_object",
    [
        cbor2.dumps(["not", "a", "map"]),
        cbor2.dumps({"fmt": "none", "attStmt": {}}),  # no authData
        cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": "text, not bytes"}),
        cbor2.dumps({"fmt": "unknown-format", "attStmt": {}, "authData": b"\x00" * 37}),
        b"",
    ],
    ids=["array", "no-authData", "authData-text", "unknown-fmt", "empty"],
)
def test_registration_with_ill_formed_attestation_object_is_refused(
    watch: Watch,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    attestation_object: bytes,
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, attestation_object=attestation_object)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons[-1] in {"verification_failed", "bad_base64url"}


@pytest.mark.parametrize("length", [0, 36, 37, 60, 120])
def test_registration_with_truncated_authenticator_data_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, length: int
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, truncate_authenticator_data=length)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["verification_failed"]


def test_registration_with_trailing_bytes_after_authenticator_data_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(options, authenticator_data_suffix=b"\x00")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert "leftover" in attempt.verifier_error.lower()


def test_registration_with_trailing_bytes_after_the_attestation_object_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # §7.1 step 13: the attestation object is one CBOR item (§6.5.4); cbor2.loads, which
    # py_webauthn uses, ignores whatever follows it.
    options = registration_options(browser)
    credential = authenticator.create(options, attestation_object_suffix=b"\x00")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["attestation_object_trailing_bytes"]


NOT_A_MAP = {
    "integer": cbor2.dumps(5),
    "text": cbor2.dumps("credProtect"),
    "array": cbor2.dumps([{"credProtect": 1}]),
    "bytes": cbor2.dumps(b"\xa0"),
    "null": cbor2.dumps(None),
}


@pytest.mark.parametrize("extensions", sorted(NOT_A_MAP))
def test_registration_whose_extensions_are_not_a_cbor_map_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, extensions: str
) -> None:
    # §6.1 / §9.5: the extensions of authenticator data are a CBOR map; §7.1 step 28
    # processes them as one. py_webauthn accepts any CBOR value there.
    options = registration_options(browser)
    credential = authenticator.create(options, extensions=NOT_A_MAP[extensions])
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["extensions_not_a_map"]


def test_registration_with_extensions_in_a_cbor_map_is_accepted(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # The positive control: an (unrequested) extension output in a map is ignored (§7.1
    # step 28 lets the relying party ignore unsolicited extensions).
    options = registration_options(browser)
    credential = authenticator.create(options, extensions=cbor2.dumps({"credProtect": 1}))
    assert browser.post_json(SIGN_UP_VERIFY, credential).status_code == 200


@pytest.mark.parametrize(
    ("algorithm", "label"),
    [(ES256, RS256), (ES256, EDDSA), (RS256, ES256)],
    ids=["EC2-as-RS256", "EC2-as-EdDSA", "RSA-as-ES256"],
)
def test_registration_whose_key_type_does_not_match_its_algorithm_is_refused(
    watch: Watch,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    algorithm: int,
    label: int,
) -> None:
    # §7.1 step 20 checks "alg" against the offered list, and §5.8.5 ties ES256 to EC2
    # keys on P-256, EdDSA to Ed25519 (RFC 9053 §2.1-2.2, RFC 8230 §4 for RSA). An EC2 key
    # labelled RS256 was stored before, and could never sign in.
    options = registration_options(browser)
    credential = authenticator.create(options, algorithm=algorithm, cose_algorithm_label=label)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["key_type_does_not_match_algorithm"]


def test_registration_whose_id_differs_from_the_attested_credential_id_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    other_id = b64url(secrets.token_bytes(32))
    credential = authenticator.create(options, extra_fields={"id": other_id, "rawId": other_id})
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons[-1] in {"verification_failed", "credential_id_mismatch"}


def test_registration_whose_raw_id_differs_from_id_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser)
    credential = authenticator.create(
        options, extra_fields={"rawId": b64url(secrets.token_bytes(32))}
    )
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["id_mismatch"]


@pytest.mark.parametrize("case", BAD_BASE64URL_CASES)
@pytest.mark.parametrize("where", ["id", "clientDataJSON", "attestationObject"])
def test_registration_with_bad_base64url_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, where: str, case: str
) -> None:
    credential = authenticator.create(registration_options(browser))
    if where == "id":
        bad = _bad_base64url(credential["id"])[case]
        credential = {**credential, "id": bad, "rawId": bad}
    else:
        bad = _bad_base64url(credential["response"][where])[case]
        credential = with_response_field(credential, where, bad)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons[-1] in {"bad_base64url", "empty_credential_id"}


@pytest.mark.parametrize("where", ["id", "clientDataJSON", "attestationObject"])
def test_registration_with_empty_binary_field_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, where: str
) -> None:
    credential = authenticator.create(registration_options(browser))
    if where == "id":
        credential = {**credential, "id": "", "rawId": ""}
    else:
        credential = with_response_field(credential, where, "")
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "rawId",
        "type",
        "response",
        "clientExtensionResults",
        "response.clientDataJSON",
        "response.attestationObject",
    ],
)
def test_registration_with_missing_field_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, path: str
) -> None:
    credential = authenticator.create(registration_options(browser), drop_fields=[path])
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["missing_field"]


@pytest.mark.parametrize(
    ("extra", "where"),
    [({"isTrusted": True}, "top"), ({"attestationStatement": "x"}, "response")],
)
def test_registration_with_unexpected_field_is_refused(
    watch: Watch,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    extra: dict[str, Any],
    where: str,
) -> None:
    credential = authenticator.create(registration_options(browser))
    if where == "top":
        credential = {**credential, **extra}
    else:
        credential = {**credential, "response": {**credential["response"], **extra}}
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["unexpected_field"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("type", None),
        ("type", ["public-key"]),
        ("response", "not an object"),
        ("response", None),
        ("clientExtensionResults", []),
        ("authenticatorAttachment", "usb"),
        ("transports", "internal"),
        ("transports", [1, 2]),
        ("publicKeyAlgorithm", "-7"),
        ("publicKeyAlgorithm", True),
        ("clientDataJSON", 7),
        ("attestationObject", {"fmt": "none"}),
    ],
)
def test_registration_with_wrong_typed_field_is_refused(
    watch: Watch,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    name: str,
    value: Any,
) -> None:
    credential = authenticator.create(registration_options(browser))
    if name in credential:
        credential = {**credential, name: value}
    else:
        credential = with_response_field(credential, name, value)
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons


@pytest.mark.parametrize(
    "client_data",
    [
        b"not json",
        b"[]",
        b'"webauthn.create"',
        b"\xff\xfe",
        b'{"type":"webauthn.create","origin":"http://localhost:5000"}',  # no challenge
        b'{"type":"webauthn.create","challenge":1,"origin":"http://localhost:5000"}',
        b"[" * 3000,  # deeper than Python's recursion limit
        b'{"type":"webauthn.create","n":' + b"1" * 5000 + b"}",  # over int_max_str_digits
    ],
    ids=[
        "text",
        "array",
        "string",
        "not-utf8",
        "no-challenge",
        "challenge-number",
        "deep-nesting",
        "huge-integer",
    ],
)
def test_registration_with_malformed_client_data_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator, client_data: bytes
) -> None:
    credential = authenticator.create(registration_options(browser))
    credential = with_response_field(credential, "clientDataJSON", b64url(client_data))
    response, attempt = post_sign_up(watch, browser, credential)
    assert_refused(response)
    # (The huge integer is also over the 4 KiB cap on clientDataJSON.)
    assert attempt.reasons[-1] in {
        "client_data_not_json",
        "client_data_missing_field",
        "field_too_long",
    }


def test_registration_body_over_the_size_cap_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    credential = authenticator.create(registration_options(browser))
    credential["clientExtensionResults"] = {"padding": "x" * (64 * 1024)}
    response, _attempt = post_sign_up(watch, browser, credential)
    body = assert_problem(response, 413)
    assert set(body) == {"type", "title", "status", "detail"}


def test_sign_up_verify_with_a_sign_in_ceremony_is_refused(
    watch: Watch, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    # The ceremony in the cookie was started for signing in, not for creating an account.
    options = registration_options(browser)
    browser.sign_in_options()
    response, attempt = post_sign_up(watch, browser, authenticator.create(options))
    assert_refused(response)
    assert attempt.reasons == ["wrong_ceremony_kind"]


# =========================================================================================
# Authentication (WebAuthn L3 §7.2), through the sign-in endpoints
# =========================================================================================


def post_sign_in(
    watch: Watch, browser: Browser, credential: Any, **kwargs: Any
) -> tuple[TestResponse, Attempt]:
    with watch.attempt() as attempt:
        response = browser.post_json(SIGN_IN_VERIFY, credential, **kwargs)
    assert not is_signed_in(browser)
    return response, attempt


def failed(account: Account, reason: str) -> list[tuple[str, str | None, str | None]]:
    """The audit rows of a refused sign-in with a known passkey."""
    return [("sign_in.failed", account.user_id, reason)]


def test_assertion_with_wrong_credential_type_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 1 / §5.1: the credential's type must be "public-key".
    credential = alice.authenticator.get(browser.sign_in_options(), type="password")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["wrong_credential_type"]


def test_assertion_with_client_data_type_create_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 10: C.type must be "webauthn.get".
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, client_data_type="webauthn.create")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "type" in attempt.verifier_error
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_with_challenge_mismatch_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 11.
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, challenge=secrets.token_bytes(32))
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]
    assert attempt.audit == failed(alice, "challenge_mismatch")


@pytest.mark.parametrize("spelling", CHALLENGE_SPELLINGS)
def test_assertion_with_another_spelling_of_the_challenge_is_refused(
    watch: Watch, alice: Account, browser: Browser, spelling: str
) -> None:
    # §7.2 step 11: C.challenge must *equal* the base64url encoding of the challenge.
    options = browser.sign_in_options()
    text = _other_spellings(options["challenge"])[spelling]
    credential = alice.authenticator.get(options, challenge_text=text)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]
    assert attempt.audit == failed(alice, "challenge_mismatch")


def test_assertion_with_reused_challenge_is_refused(
    app: Flask, watch: Watch, alice: Account, browser: Browser
) -> None:
    # The same response and the same cookie, replayed after a successful sign-in.
    credential = alice.authenticator.get(browser.sign_in_options())
    captured_cookie = cookie_value(browser)
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200
    replayer = browser_with_cookie(app, captured_cookie)
    response, attempt = post_sign_in(watch, replayer, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_unknown_or_used"]
    assert attempt.audit == []


def test_assertion_replayed_after_a_refusal_is_refused(
    app: Flask, watch: Watch, alice: Account, browser: Browser
) -> None:
    # A refused attempt uses the challenge up too: no second try with the same one.
    options = browser.sign_in_options()
    captured_cookie = cookie_value(browser)
    refused = browser.post_json(SIGN_IN_VERIFY, alice.authenticator.get(options, bad_signature=1))
    assert refused.status_code == 400
    replayer = browser_with_cookie(app, captured_cookie)
    response, attempt = post_sign_in(watch, replayer, alice.authenticator.get(options))
    assert_refused(response)
    assert attempt.reasons == ["challenge_unknown_or_used"]


def test_assertion_sent_twice_by_the_same_browser_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    assert browser.post_json(SIGN_IN_VERIFY, credential).status_code == 200
    browser.sign_out()
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["no_ceremony"]


def test_assertion_with_expired_challenge_is_refused(
    watch: Watch, alice: Account, browser: Browser, clock: FrozenClock
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    clock.advance(seconds=301)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_expired"]


def test_assertion_with_challenge_of_another_session_is_refused(
    watch: Watch, alice: Account, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    # Browser A started the ceremony; browser B (with its own ceremony) sends the answer.
    credential = alice.authenticator.get(browser.sign_in_options())
    other = new_browser()
    other.sign_in_options()
    response, attempt = post_sign_in(watch, other, credential)
    assert_refused(response)
    assert attempt.reasons == ["challenge_mismatch"]
    assert attempt.audit == failed(alice, "challenge_mismatch")


def test_assertion_from_a_browser_without_ceremony_is_refused(
    watch: Watch, alice: Account, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    response, attempt = post_sign_in(watch, new_browser(), credential)
    assert_refused(response)
    assert attempt.reasons == ["no_ceremony"]


def test_assertion_with_a_sign_up_ceremony_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    registration_options(browser)  # now the cookie holds a sign-up ceremony
    response, attempt = post_sign_in(watch, browser, alice.authenticator.get(options))
    assert_refused(response)
    assert attempt.reasons == ["wrong_ceremony_kind"]


def test_assertion_from_another_origin_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 12.
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, origin="https://evil.example")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "origin" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_from_a_sibling_port_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, origin="http://localhost:5001")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "origin" in attempt.verifier_error.lower()


def test_assertion_with_cross_origin_true_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 13: signing in from inside another site's frame is not allowed here.
    credential = alice.authenticator.get(browser.sign_in_options(), cross_origin=True)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["cross_origin"]


def test_assertion_with_top_origin_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, top_origin="https://evil.example")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["top_origin_present"]


def test_assertion_with_top_origin_equal_to_origin_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # No frame of any kind, not even our own: topOrigin is only sent from iframes.
    credential = alice.authenticator.get(browser.sign_in_options(), top_origin=ORIGIN)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["top_origin_present"]


@pytest.mark.parametrize("value", ["false", 0, None], ids=["string", "zero", "null"])
def test_assertion_with_non_boolean_cross_origin_is_refused(
    watch: Watch, alice: Account, browser: Browser, value: Any
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, cross_origin=False)
    # Rebuild clientDataJSON with a non-boolean crossOrigin (and sign nothing: it is
    # refused before any signature is checked).
    client_data = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
    client_data["crossOrigin"] = value
    encoded = b64url(json.dumps(client_data).encode())
    response, attempt = post_sign_in(
        watch, browser, with_response_field(credential, "clientDataJSON", encoded)
    )
    assert_refused(response)
    assert attempt.reasons == ["client_data_wrong_type"]


def test_assertion_with_rp_id_hash_of_another_site_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 15 (rpIdHash).
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, rp_id="evil.example")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "rp id" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_without_user_presence_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 16.
    credential = alice.authenticator.get(browser.sign_in_options(), user_present=False)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "present" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_without_user_verification_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 17: userVerification is "required". A browser would refuse this before
    # sending it; the server must refuse it too.
    credential = alice.authenticator.get(browser.sign_in_options(), user_verified=False)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "verif" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_with_bad_signature_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 21.
    credential = alice.authenticator.get(browser.sign_in_options(), bad_signature=True)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "signature" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_signed_by_another_key_is_refused(
    watch: Watch, alice: Account, bob: Account, browser: Browser
) -> None:
    # Alice's credential id and handle, Bob's private key.
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, sign_with=bob.credential)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "signature" in attempt.verifier_error.lower()
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_signed_with_another_algorithm_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options(), algorithm=EDDSA)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.audit == failed(alice, "verification_failed")


def test_assertion_with_unknown_credential_is_refused_with_a_signal(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 6: the credential must be registered. The response lets the page call
    # PublicKeyCredential.signalUnknownCredential so the browser can forget it.
    stranger = stranger_credential()
    credential = alice.authenticator.get(browser.sign_in_options(), credential=stranger)
    response, attempt = post_sign_in(watch, browser, credential)
    body = assert_refused(response, signal=True)
    assert body["signal"] == {"rpId": "localhost", "credentialId": b64url(stranger.credential_id)}
    assert attempt.reasons == ["unknown_credential"]
    assert attempt.audit == [("sign_in.failed", None, "unknown_credential")]


def test_credential_of_one_account_with_another_accounts_user_handle_is_refused(
    watch: Watch, alice: Account, bob: Account, browser: Browser
) -> None:
    # §7.2 step 6: py_webauthn does not check this. Without it Bob's genuine passkey,
    # labelled with Alice's user handle, could sign in as... whichever the server chose.
    options = browser.sign_in_options()
    credential = bob.authenticator.get(options, user_handle=alice.user_handle)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["user_handle_mismatch"]
    assert attempt.audit == failed(bob, "user_handle_mismatch")


def test_assertion_without_user_handle_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # §7.2 step 6: with an empty allowCredentials the credential is discoverable and the
    # authenticator must return the user handle.
    credential = alice.authenticator.get(browser.sign_in_options(), user_handle=None)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["user_handle_missing"]
    assert attempt.audit == failed(alice, "user_handle_missing")


def test_step_up_without_user_handle_is_accepted(alice: Account, browser: Browser) -> None:
    # §7.2 step 6, first case: the user was identified before the ceremony (the signed-in
    # person), so userHandle is optional; the credential is checked to be theirs.
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    options = browser.post_json("/api/reauth/options").get_json()
    credential = alice.authenticator.get(options, user_handle=None)
    response = browser.post_json("/api/reauth/verify", credential)
    assert response.status_code == 200, response.get_json()


def test_step_up_with_another_accounts_user_handle_is_refused(
    watch: Watch, alice: Account, bob: Account, browser: Browser
) -> None:
    # §7.2 step 6: "If response.userHandle is present, verify that it equals the user
    # handle of the user account."
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    options = browser.post_json("/api/reauth/options").get_json()
    credential = alice.authenticator.get(options, user_handle=bob.user_handle)
    with watch.attempt() as attempt:
        response = browser.post_json("/api/reauth/verify", credential)
    assert_refused(response)
    assert attempt.reasons == ["user_handle_mismatch"]


def test_assertion_with_null_user_handle_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    credential = with_response_field(credential, "userHandle", None)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["user_handle_missing"]


@pytest.mark.parametrize("reported", [1, 0], ids=["equal", "lower"])
def test_sign_count_regression_is_refused_and_audited_as_possible_clone(
    watch: Watch, alice: Account, browser: Browser, reported: int
) -> None:
    # §6.1.1 / §7.2 step 22: a stored non-zero counter must increase.
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200  # count 1
    browser.sign_out()
    credential = alice.authenticator.get(browser.sign_in_options(), sign_count=reported)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["sign_count_regressed"]
    assert attempt.audit == [
        ("passkey.possible_clone", alice.user_id, None),
        ("sign_in.failed", alice.user_id, "sign_count_regressed"),
    ]


def test_forged_assertion_with_regressed_count_is_not_audited_as_clone(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    # Only a genuine signature may mark a passkey as possibly cloned.
    assert browser.sign_in_with_passkey(alice.authenticator).status_code == 200
    browser.sign_out()
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, sign_count=1, bad_signature=True)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.audit == failed(alice, "verification_failed")


@pytest.mark.parametrize("registered_as_synced", [False, True])
def test_backup_eligibility_change_is_refused(
    app: Flask,
    watch: Watch,
    browser: Browser,
    registered_as_synced: bool,
) -> None:
    # §6.1.3: BE is fixed for the life of a credential.
    authenticator = SoftwareAuthenticator(
        backup_eligible=registered_as_synced, backup_state=registered_as_synced
    )
    account = sign_up(app, browser, authenticator, "carol")
    credential = authenticator.get(
        browser.sign_in_options(),
        backup_eligible=not registered_as_synced,
        backup_state=False,
    )
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["backup_eligibility_changed"]
    assert attempt.audit == failed(account, "backup_eligibility_changed")


@pytest.mark.parametrize("length", [0, 32, 36, 37 - 1])
def test_assertion_with_truncated_authenticator_data_is_refused(
    watch: Watch, alice: Account, browser: Browser, length: int
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, truncate_authenticator_data=length)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons[-1] in {"verification_failed", "bad_base64url"}


def test_assertion_with_trailing_bytes_after_authenticator_data_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, authenticator_data_suffix=b"\x00\x01")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert "leftover" in attempt.verifier_error.lower()


@pytest.mark.parametrize("extensions", sorted(NOT_A_MAP))
def test_assertion_whose_extensions_are_not_a_cbor_map_is_refused(
    watch: Watch, alice: Account, browser: Browser, extensions: str
) -> None:
    # §6.1 / §9.5, processed at §7.2 step 23: the extensions are a CBOR map.
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, extensions=NOT_A_MAP[extensions])
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["extensions_not_a_map"]


def test_assertion_with_credential_id_over_1023_bytes_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(options, credential_id=secrets.token_bytes(1024))
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["credential_id_too_long"]


def test_assertion_whose_raw_id_differs_from_id_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    options = browser.sign_in_options()
    credential = alice.authenticator.get(
        options, extra_fields={"rawId": b64url(secrets.token_bytes(32))}
    )
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["id_mismatch"]


@pytest.mark.parametrize("case", BAD_BASE64URL_CASES)
@pytest.mark.parametrize(
    "where", ["id", "clientDataJSON", "authenticatorData", "signature", "userHandle"]
)
def test_assertion_with_bad_base64url_is_refused(
    watch: Watch, alice: Account, browser: Browser, where: str, case: str
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    if where == "id":
        bad = _bad_base64url(credential["id"])[case]
        credential = {**credential, "id": bad, "rawId": bad}
    else:
        bad = _bad_base64url(credential["response"][where])[case]
        credential = with_response_field(credential, where, bad)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons[-1] in {"bad_base64url", "empty_credential_id", "field_too_long"}


@pytest.mark.parametrize(
    "where", ["id", "clientDataJSON", "authenticatorData", "signature", "userHandle"]
)
def test_assertion_with_empty_binary_field_is_refused(
    watch: Watch, alice: Account, browser: Browser, where: str
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    if where == "id":
        credential = {**credential, "id": "", "rawId": ""}
    else:
        credential = with_response_field(credential, where, "")
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "rawId",
        "type",
        "response",
        "clientExtensionResults",
        "response.clientDataJSON",
        "response.authenticatorData",
        "response.signature",
    ],
)
def test_assertion_with_missing_field_is_refused(
    watch: Watch, alice: Account, browser: Browser, path: str
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options(), drop_fields=[path])
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["missing_field"]


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"isTrusted": True}, "top"),
        ({"__proto__": {}}, "top"),
        ({"publicKey": "x"}, "response"),
        ({"transports": ["internal"]}, "response"),
    ],
)
def test_assertion_with_unexpected_field_is_refused(
    watch: Watch, alice: Account, browser: Browser, extra: dict[str, Any], where: str
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    if where == "top":
        credential = {**credential, **extra}
    else:
        credential = {**credential, "response": {**credential["response"], **extra}}
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons == ["unexpected_field"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", 12345),
        ("id", None),
        ("type", None),
        ("response", []),
        ("clientExtensionResults", "none"),
        ("authenticatorAttachment", 1),
        ("signature", 1),
        ("signature", None),
        ("authenticatorData", ["AAAA"]),
        ("userHandle", 42),
    ],
)
def test_assertion_with_wrong_typed_field_is_refused(
    watch: Watch, alice: Account, browser: Browser, name: str, value: Any
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    if name in credential:
        credential = {**credential, name: value}
        if name == "id":
            credential["rawId"] = value
    else:
        credential = with_response_field(credential, name, value)
    response, attempt = post_sign_in(watch, browser, credential)
    assert_refused(response)
    assert attempt.reasons


def test_assertion_body_over_the_size_cap_is_refused(
    watch: Watch, alice: Account, browser: Browser
) -> None:
    credential = alice.authenticator.get(browser.sign_in_options())
    credential["clientExtensionResults"] = {"padding": "x" * (64 * 1024)}
    response, attempt = post_sign_in(watch, browser, credential)
    body = assert_problem(response, 413)
    assert set(body) == {"type", "title", "status", "detail"}
    assert attempt.reasons == []
    # The body was not read: the connection must not carry on after it.
    assert response.headers["Connection"] == "close"


def test_an_unknown_passkey_is_told_it_is_no_longer_linked_and_a_bad_signature_is_not(
    alice: Account, new_browser: Callable[[], Browser]
) -> None:
    # Issue 17 item 3: retrying with a passkey the site no longer knows can never work, so
    # it is said plainly, with the other ways in; a known passkey that fails a check keeps
    # the one generic refusal (ASVS 5.0 V6.3.8: the reason goes only to the audit trail).
    unknown_browser, known_browser = new_browser(), new_browser()
    unknown = unknown_browser.post_json(
        SIGN_IN_VERIFY,
        alice.authenticator.get(
            unknown_browser.sign_in_options(), credential=stranger_credential()
        ),
    )
    known = known_browser.post_json(
        SIGN_IN_VERIFY,
        alice.authenticator.get(known_browser.sign_in_options(), bad_signature=True),
    )
    a, b = assert_refused(unknown, signal=True), assert_refused(known)
    assert unknown.status_code == known.status_code == 400
    assert "no longer linked to an account here" in a["detail"]
    assert "password and one-time code, a recovery code, or another passkey" in a["detail"]
    assert b["detail"] == PASSKEY_NOT_ACCEPTED


def test_a_removed_passkey_and_one_never_registered_get_the_same_answer(
    app: Flask, alice: Account, new_browser: Callable[[], Browser]
) -> None:
    # No hint whether an account exists or existed: a passkey removed from Alice's account
    # (her account still there) and one no account ever had are answered alike, apart from
    # the Signal API hint naming each one's own credential id; no username in either.
    [removed] = alice.authenticator.credentials
    with app.app_context():
        db.session.execute(delete(Passkey).where(Passkey.user_id == alice.user_id))
        db.session.commit()
    answers = []
    for credential in (removed, stranger_credential()):
        browser = new_browser()
        response = browser.post_json(
            SIGN_IN_VERIFY,
            alice.authenticator.get(browser.sign_in_options(), credential=credential),
        )
        body = assert_refused(response, signal=True)
        assert body.pop("signal")["credentialId"] == b64url(credential.credential_id)
        assert "alice" not in response.get_data(as_text=True).lower()
        answers.append((response.status_code, body))
    assert answers[0] == answers[1]
