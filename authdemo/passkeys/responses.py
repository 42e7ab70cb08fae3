"""Strict checks of a browser's passkey response before any cryptography runs.

py_webauthn verifies signatures, challenges, origins and flags, but it is lenient about
the JSON around them: its base64url decoder skips characters that are not base64url, it
ignores unknown fields, it does not look at ``topOrigin``, and a wrong type can surface as
a ``KeyError``. Here we accept exactly the JSON shapes of WebAuthn L3 §5.1
(``RegistrationResponseJSON``, ``AuthenticationResponseJSON``) and nothing else, so every
malformed input becomes one clear 4xx instead of reaching the verifier.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authdemo.errors import CeremonyFailed
from authdemo.models.passkey import CREDENTIAL_ID_MAX

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
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


@dataclass(frozen=True, slots=True)
class ParsedAssertion:
    raw: dict[str, Any]
    credential_id: bytes
    user_handle: bytes | None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(value: object, *, field: str, max_bytes: int) -> bytes:
    """Decode canonical unpadded base64url (RFC 4648 §5), refusing anything else."""
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise CeremonyFailed("bad_base64url", field=field)
    if len(value) > (max_bytes * 4 + 2) // 3:
        raise CeremonyFailed("field_too_long", field=field)
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CeremonyFailed("bad_base64url", field=field) from exc
    # Non-canonical encodings (stray bits in the last character) are refused.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() != value:
        raise CeremonyFailed("bad_base64url", field=field)
    return decoded


def _check_keys(obj: Mapping[str, Any], required: set[str], optional: set[str], where: str) -> None:
    keys = set(obj)
    if not required <= keys:
        raise CeremonyFailed("missing_field", field=where)
    if keys - required - optional:
        raise CeremonyFailed("unexpected_field", field=where)


def _common(
    payload: object, required: set[str], optional: set[str]
) -> tuple[dict[str, Any], bytes]:
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
    check_client_data(
        b64url_decode(
            response["clientDataJSON"], field="clientDataJSON", max_bytes=_MAX_CLIENT_DATA
        )
    )
    return payload, credential_id


def check_client_data(client_data_json: bytes) -> None:
    """WebAuthn L3 §7.1 steps 5-6 / §7.2 steps 10-11: the client data must be a JSON object.

    Also refuses ``crossOrigin: true`` and any ``topOrigin``: this site is never embedded
    in another site's frame to sign people in (§5.10.1, §13.4.9). Browsers always send
    ``crossOrigin: false`` at top level, which is accepted.
    """
    try:
        data = json.loads(client_data_json.decode("utf-8"))
    # ValueError covers JSONDecodeError and UnicodeDecodeError; RecursionError comes from
    # deep nesting (3 KB of "[" is enough), which must not become a 500 either.
    except (ValueError, RecursionError) as exc:
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


def parse_registration(payload: object) -> ParsedRegistration:
    data, credential_id = _common(payload, _ATTESTATION_REQUIRED, _ATTESTATION_OPTIONAL)
    transports = data["response"].get("transports", [])
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise CeremonyFailed("wrong_type", field="response.transports")
    # Unknown transport hints are dropped, not stored (WebAuthn L3 §5.8.4 says to ignore them).
    known = sorted({t for t in transports if t in _TRANSPORTS})
    return ParsedRegistration(raw=data, credential_id=credential_id, transports=known)


def parse_assertion(payload: object) -> ParsedAssertion:
    data, credential_id = _common(payload, _ASSERTION_REQUIRED, _ASSERTION_OPTIONAL)
    handle_value = data["response"].get("userHandle")
    user_handle = (
        None
        if handle_value is None
        else b64url_decode(handle_value, field="response.userHandle", max_bytes=64)
    )
    return ParsedAssertion(raw=data, credential_id=credential_id, user_handle=user_handle)
