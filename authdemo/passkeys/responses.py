"""Strict checks of a browser's passkey response before any cryptography runs.

py_webauthn verifies signatures, challenges, origins and flags, but it is lenient about
the JSON around them: its base64url decoder skips characters that are not base64url, it
ignores unknown fields, it does not look at ``topOrigin``, and a wrong type can surface as
a ``KeyError``. Here we accept exactly the JSON shapes of WebAuthn L3 §5.1
(``RegistrationResponseJSON``, ``AuthenticationResponseJSON``) and nothing else, so every
malformed input becomes one clear 4xx instead of reaching the verifier.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from webauthn.helpers import parse_authenticator_data

from authdemo import base64url, untrusted_json
from authdemo.errors import CeremonyFailed
from authdemo.models.passkey import CREDENTIAL_ID_MAX

#: Generous caps per field; the whole request is also capped (MAX_REQUEST_BYTES).
_MAX_CLIENT_DATA = 4096
_MAX_BLOB = 16384

_TOP_LEVEL = {"id", "rawId", "type", "response", "clientExtensionResults"}
_TOP_LEVEL_OPTIONAL = {"authenticatorAttachment"}
_ATTESTATION_REQUIRED = {"clientDataJSON", "attestationObject"}
_ATTESTATION_OPTIONAL = {"transports", "authenticatorData", "publicKey", "publicKeyAlgorithm"}
_ASSERTION_REQUIRED = {"clientDataJSON", "authenticatorData", "signature"}
_ASSERTION_OPTIONAL = {"userHandle", "attestationObject"}
_TRANSPORTS = {"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"}


@dataclass(frozen=True, slots=True)
class ParsedRegistration:
    raw: dict[str, Any]
    credential_id: bytes
    transports: list[str]
    #: ``clientDataJSON.challenge`` exactly as the browser sent it.
    challenge: str


@dataclass(frozen=True, slots=True)
class ParsedAssertion:
    raw: dict[str, Any]
    credential_id: bytes
    user_handle: bytes | None
    #: ``clientDataJSON.challenge`` exactly as the browser sent it.
    challenge: str


def b64url_decode(value: object, *, field: str, max_bytes: int) -> bytes:
    """Decode canonical unpadded base64url (RFC 4648 §5), refusing anything else."""
    if isinstance(value, str) and len(value) > base64url.max_length(max_bytes):
        raise CeremonyFailed("field_too_long", field=field)
    try:
        return base64url.decode(value)
    except ValueError as exc:
        raise CeremonyFailed("bad_base64url", field=field) from exc


def check_challenge(sent: str, issued: bytes) -> None:
    """WebAuthn L3 §7.1 step 8 / §7.2 step 11: ``C.challenge`` must *equal* the base64url
    encoding of the challenge we issued. py_webauthn decodes the text leniently and
    compares bytes, so padding, stray characters or stray trailing bits would pass; the
    comparison of the text itself refuses every other spelling of the same bytes."""
    if not hmac.compare_digest(sent.encode("utf-8"), base64url.encode(issued).encode("ascii")):
        raise CeremonyFailed("challenge_mismatch")


def _check_keys(obj: Mapping[str, Any], required: set[str], optional: set[str], where: str) -> None:
    keys = set(obj)
    if not required <= keys:
        raise CeremonyFailed("missing_field", field=where)
    if keys - required - optional:
        raise CeremonyFailed("unexpected_field", field=where)


def _common(
    payload: object, required: set[str], optional: set[str]
) -> tuple[dict[str, Any], bytes, str]:
    if not isinstance(payload, dict):
        raise CeremonyFailed("not_an_object")
    _check_keys(payload, _TOP_LEVEL, _TOP_LEVEL_OPTIONAL, "credential")
    if payload["type"] != "public-key":
        raise CeremonyFailed("wrong_credential_type", field="type")
    if not isinstance(payload["clientExtensionResults"], dict):
        raise CeremonyFailed("wrong_type", field="clientExtensionResults")
    attachment = payload.get("authenticatorAttachment")
    if attachment is not None and (
        not isinstance(attachment, str) or attachment not in {"platform", "cross-platform"}
    ):
        raise CeremonyFailed("wrong_type", field="authenticatorAttachment")
    credential_id = b64url_decode(payload["id"], field="id", max_bytes=CREDENTIAL_ID_MAX + 1)
    if payload["rawId"] != payload["id"]:
        raise CeremonyFailed("id_mismatch", field="rawId")
    if not credential_id:
        raise CeremonyFailed("empty_credential_id", field="id")
    # WebAuthn L3 §7.1 step 25: credential ids longer than 1023 bytes are refused.
    if len(credential_id) > CREDENTIAL_ID_MAX:
        raise CeremonyFailed("credential_id_too_long", field="id")
    response = payload["response"]
    if not isinstance(response, dict):
        raise CeremonyFailed("wrong_type", field="response")
    _check_keys(response, required, optional, "response")
    for name in required | (optional & set(response)):
        value = response[name]
        if name == "transports":
            continue
        if name == "publicKeyAlgorithm":
            if not isinstance(value, int) or isinstance(value, bool):
                raise CeremonyFailed("wrong_type", field=f"response.{name}")
            continue
        if name == "userHandle" and value is None:
            continue
        limit = _MAX_CLIENT_DATA if name == "clientDataJSON" else _MAX_BLOB
        b64url_decode(value, field=f"response.{name}", max_bytes=limit)
    challenge = check_client_data(
        b64url_decode(
            response["clientDataJSON"], field="clientDataJSON", max_bytes=_MAX_CLIENT_DATA
        )
    )
    return payload, credential_id, challenge


def check_client_data(client_data_json: bytes) -> str:
    """WebAuthn L3 §7.1 steps 5-6 / §7.2 steps 8-9: the client data must be a JSON object.
    Returns its ``challenge`` text, for ``check_challenge``.

    Also refuses ``crossOrigin: true`` and any ``topOrigin``: this site is never embedded
    in another site's frame to sign people in (§5.10.1, §13.4.9). Browsers always send
    ``crossOrigin: false`` at top level, which is accepted.
    """
    try:
        data = untrusted_json.loads(client_data_json)
    except ValueError as exc:
        raise CeremonyFailed("client_data_not_json") from exc
    if not isinstance(data, dict):
        raise CeremonyFailed("client_data_not_json")
    for name in ("type", "challenge", "origin"):
        if not isinstance(data.get(name), str):
            raise CeremonyFailed("client_data_missing_field")
    cross_origin = data.get("crossOrigin", False)
    if not isinstance(cross_origin, bool):
        raise CeremonyFailed("client_data_wrong_type")
    if cross_origin:
        raise CeremonyFailed("cross_origin")
    if "topOrigin" in data:
        raise CeremonyFailed("top_origin_present")
    challenge: str = data["challenge"]
    return challenge


def check_attestation_object(attestation_object: bytes) -> None:
    """§7.1 step 13 decodes the attestation object as *one* CBOR item (§6.5.4): bytes
    after it are refused (``cbor2.loads`` ignores them). The extensions in its
    authenticator data must be a CBOR map (below). What does not decode at all is left to
    the verifier, which refuses it."""
    decoder = cbor2.CBORDecoder(io.BytesIO(attestation_object))
    try:
        decoded = decoder.decode()
    except Exception:  # noqa: BLE001 - any decoding failure: py_webauthn refuses it next
        return
    if decoder.fp.tell() != len(attestation_object):
        raise CeremonyFailed("attestation_object_trailing_bytes")
    auth_data = decoded.get("authData") if isinstance(decoded, dict) else None
    if isinstance(auth_data, bytes):
        check_extensions(auth_data)


def check_extensions(authenticator_data: bytes) -> None:
    """§6.1 and §9.5: the ``extensions`` of authenticator data (present when the ED flag is
    set) are a CBOR *map* from extension identifiers to outputs; any other CBOR value
    (py_webauthn accepts one) is refused, so §7.1 step 28 / §7.2 step 23 always process
    a map. Authenticator data that does not parse is left to the verifier."""
    try:
        parsed = parse_authenticator_data(authenticator_data)
        extensions = None if parsed.extensions is None else cbor2.loads(parsed.extensions)
    except Exception:  # noqa: BLE001 - malformed data: py_webauthn refuses it next
        return
    if parsed.flags.ed and not isinstance(extensions, dict):
        raise CeremonyFailed("extensions_not_a_map")


def parse_registration(payload: object) -> ParsedRegistration:
    data, credential_id, challenge = _common(payload, _ATTESTATION_REQUIRED, _ATTESTATION_OPTIONAL)
    transports = data["response"].get("transports", [])
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise CeremonyFailed("wrong_type", field="response.transports")
    # Unknown transport hints are dropped, not stored (WebAuthn L3 §5.8.4 says to ignore them).
    known = sorted({t for t in transports if t in _TRANSPORTS})
    check_attestation_object(
        b64url_decode(
            data["response"]["attestationObject"], field="attestationObject", max_bytes=_MAX_BLOB
        )
    )
    return ParsedRegistration(
        raw=data, credential_id=credential_id, transports=known, challenge=challenge
    )


def parse_assertion(payload: object) -> ParsedAssertion:
    data, credential_id, challenge = _common(payload, _ASSERTION_REQUIRED, _ASSERTION_OPTIONAL)
    handle_value = data["response"].get("userHandle")
    user_handle = (
        None
        if handle_value is None
        else b64url_decode(handle_value, field="response.userHandle", max_bytes=64)
    )
    check_extensions(
        b64url_decode(
            data["response"]["authenticatorData"], field="authenticatorData", max_bytes=_MAX_BLOB
        )
    )
    return ParsedAssertion(
        raw=data, credential_id=credential_id, user_handle=user_handle, challenge=challenge
    )
