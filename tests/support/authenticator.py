"""A software passkey authenticator, plus the browser around it, for the test suite.

Functional tests cannot touch a fingerprint reader, so this module plays both roles a real
sign-in involves:

* the **client** (the browser): it builds ``clientDataJSON`` (WebAuthn L3 §5.8.1) from the
  options the server sent and the page's origin, and serialises the result exactly like
  ``PublicKeyCredential.toJSON()`` (WebAuthn L3 §5.1): binary fields become base64url strings
  without padding;
* the **authenticator**: it generates a key pair per credential, builds the authenticator data
  (§6.1), encodes the public key as a COSE_Key (§6.5.1.1), wraps everything in a "none"
  attestation object (§8.7) when registering, and signs ``authenticatorData || SHA-256(
  clientDataJSON)`` when asserting (§6.3.3).

Nothing here stores or needs biometrics: "user verified" is a boolean flag, exactly as it is on
the wire.

Honest by default, adversarial on request: every keyword override of :meth:`create` and
:meth:`get` breaks exactly one thing, so a test can prove that the server's verification step
for that one thing is there (see :class:`CreateOverrides` and :class:`GetOverrides`).
Fields the authenticator signs (flags, counter, RP ID hash, client data...) are signed *as
sent*, so an override never also breaks the signature by accident.

Typical use::

    authenticator = SoftwareAuthenticator()
    options = client.post(REGISTRATION_OPTIONS_URL).get_json()  # the app's own endpoints
    client.post(REGISTRATION_VERIFY_URL, json=authenticator.create(options))
    options = client.post(AUTHENTICATION_OPTIONS_URL).get_json()
    client.post(AUTHENTICATION_VERIFY_URL, json=authenticator.get(options))
    # and to prove the server checks signatures:
    client.post(AUTHENTICATION_VERIFY_URL, json=authenticator.get(options, bad_signature=True))
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypedDict
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from typing_extensions import Unpack

__all__ = [
    "EDDSA",
    "ES256",
    "RS256",
    "AuthenticatorError",
    "CreateOverrides",
    "ExcludedCredentialError",
    "GetOverrides",
    "NoCredentialError",
    "PrivateKey",
    "RelyingPartyMismatchError",
    "SoftwareAuthenticator",
    "StoredCredential",
    "UnsupportedAlgorithmError",
    "b64url",
    "b64url_decode",
    "cose_public_key",
    "generate_private_key",
    "sign",
]

# COSE algorithm identifiers (WebAuthn L3 §5.8.5, IANA "COSE Algorithms" registry).
ES256: Final = -7  # ECDSA over P-256 with SHA-256 (RFC 9053 §2.1)
EDDSA: Final = -8  # EdDSA; with crv 6 it means Ed25519 (RFC 9053 §2.2)
RS256: Final = -257  # RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8812 §2)
SUPPORTED_ALGORITHMS: Final = (ES256, EDDSA, RS256)

# Authenticator data flag bits (WebAuthn L3 §6.1).
FLAG_UP: Final = 0x01  # User Present
FLAG_UV: Final = 0x04  # User Verified
FLAG_BE: Final = 0x08  # Backup Eligible (§6.1.3)
FLAG_BS: Final = 0x10  # Backup State (§6.1.3)
FLAG_AT: Final = 0x40  # Attested credential data included (registration only)
FLAG_ED: Final = 0x80  # Extension data included (only with the ``extensions`` override)

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
"""Any private key this authenticator can hold: P-256, Ed25519 or RSA."""


# --------------------------------------------------------------------------------------------
# base64url (RFC 4648 §5), the encoding of every binary field in WebAuthn's JSON forms
# --------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """Encode bytes as base64url *without* padding, as ``toJSON()`` does (WebAuthn L3 §5.1)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s: str) -> bytes:
    """Decode base64url, with or without ``=`` padding."""
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# --------------------------------------------------------------------------------------------
# Keys, COSE public keys and signatures (all cryptography comes from `cryptography`)
# --------------------------------------------------------------------------------------------


def generate_private_key(algorithm: int) -> PrivateKey:
    """Generate a fresh key pair for a COSE algorithm (ES256, EdDSA or RS256)."""
    if algorithm == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise UnsupportedAlgorithmError(f"COSE algorithm {algorithm} is not supported here")


def cose_public_key(private_key: PrivateKey, algorithm: int) -> bytes:
    """Return the CBOR-encoded COSE_Key of ``private_key``'s public half.

    This is the ``credentialPublicKey`` of attested credential data (WebAuthn L3 §6.5.1; the
    examples in §6.5.1.1 show these exact maps). Labels: 1 = kty, 3 = alg, and the negative
    labels are key-type specific (RFC 9053 §7 for EC2/OKP, RFC 8230 §4 for RSA).
    """
    cose_key: dict[int, int | bytes]
    if algorithm == ES256 and isinstance(private_key, ec.EllipticCurvePrivateKey):
        point = private_key.public_key().public_numbers()
        cose_key = {
            1: 2,  # kty: EC2
            3: ES256,  # alg
            -1: 1,  # crv: P-256
            -2: point.x.to_bytes(32, "big"),  # x coordinate, fixed 32 bytes
            -3: point.y.to_bytes(32, "big"),  # y coordinate, fixed 32 bytes
        }
    elif algorithm == EDDSA and isinstance(private_key, ed25519.Ed25519PrivateKey):
        cose_key = {
            1: 1,  # kty: OKP
            3: EDDSA,  # alg
            -1: 6,  # crv: Ed25519
            -2: private_key.public_key().public_bytes_raw(),  # x: the 32-byte public key
        }
    elif algorithm == RS256 and isinstance(private_key, rsa.RSAPrivateKey):
        numbers = private_key.public_key().public_numbers()
        cose_key = {
            1: 3,  # kty: RSA
            3: RS256,  # alg
            -1: numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"),  # n: modulus
            -2: numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"),  # e: exponent
        }
    else:
        raise UnsupportedAlgorithmError(
            f"cannot encode a {type(private_key).__name__} as COSE algorithm {algorithm}"
        )
    # Canonical CBOR (CTAP2 ordering: 1, 3, -1, -2, -3), as authenticators emit it.
    return cbor2.dumps(cose_key, canonical=True)


def sign(private_key: PrivateKey, algorithm: int, data: bytes) -> bytes:
    """Sign ``data`` the way WebAuthn expects for ``algorithm``.

    See WebAuthn L3 §6.5.5, "Signature Formats for Packed Attestation, FIDO U2F Attestation,
    and Assertion Signatures".

    ES256 signatures are ASN.1 DER ``Ecdsa-Sig-Value`` (not raw r||s as in COSE), RS256 is
    PKCS#1 v1.5 with SHA-256, and EdDSA is a plain 64-byte Ed25519 signature.
    """
    if algorithm == ES256 and isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if algorithm == EDDSA and isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    if algorithm == RS256 and isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise UnsupportedAlgorithmError(
        f"cannot sign with a {type(private_key).__name__} as COSE algorithm {algorithm}"
    )


# --------------------------------------------------------------------------------------------
# Errors: each mirrors the DOMException a browser would raise
# --------------------------------------------------------------------------------------------


class AuthenticatorError(Exception):
    """Base class: the ceremony failed in the browser, so nothing would reach the server."""


class ExcludedCredentialError(AuthenticatorError):
    """A credential in ``excludeCredentials`` lives on this authenticator.

    Browsers reject with ``InvalidStateError`` (authenticatorMakeCredential, WebAuthn L3
    §6.3.2): the user already has a passkey for this account on this device.
    """


class NoCredentialError(AuthenticatorError):
    """No credential of ours matches the request (browsers: ``NotAllowedError``)."""


class UnsupportedAlgorithmError(AuthenticatorError):
    """No acceptable algorithm in ``pubKeyCredParams`` (browsers: ``NotSupportedError``)."""


class RelyingPartyMismatchError(AuthenticatorError):
    """The RP ID is not the origin's host or a parent domain of it (browsers: ``SecurityError``).

    WebAuthn L3 §5.1.3 and §5.1.4: a page may only use its own domain, or a
    registrable suffix of it, as RP ID. This usually means the server's RP ID setting does not
    match the origin the test pretends to browse from.
    """


@dataclass
class StoredCredential:
    """What the authenticator keeps per passkey (a "public key credential source", §4).

    The server only ever learns ``credential_id``, the public key, ``user_handle`` and the
    counter; the private key never leaves the authenticator.
    """

    credential_id: bytes
    private_key: PrivateKey
    algorithm: int
    """COSE algorithm: -7 (ES256), -8 (EdDSA) or -257 (RS256)."""
    rp_id: str
    user_handle: bytes
    """The server's ``user.id`` from the creation options: opaque bytes, no personal data."""
    sign_count: int
    """Signature counter (§6.1.1): the value reported by the last ceremony."""

    @property
    def public_key(self) -> bytes:
        """The COSE_Key public key, as the server stores it after registration."""
        return cose_public_key(self.private_key, self.algorithm)

    @property
    def id_b64url(self) -> str:
        """The credential id as it appears in JSON (``id`` / ``rawId``)."""
        return b64url(self.credential_id)


# --------------------------------------------------------------------------------------------
# Overrides: one keyword, one broken thing
# --------------------------------------------------------------------------------------------


class _CommonOverrides(TypedDict, total=False):
    """Overrides accepted by both :meth:`SoftwareAuthenticator.create` and ``get``.

    Leave a key out for honest behaviour.
    """

    type: str
    """The credential's outer ``type`` (honest: ``"public-key"``)."""
    client_data_type: str
    """``clientDataJSON.type`` (honest: ``"webauthn.create"`` / ``"webauthn.get"``)."""
    challenge: bytes
    """Challenge bytes to put in client data instead of the options' challenge."""
    challenge_text: str
    """The exact text of ``clientDataJSON.challenge`` (e.g. another spelling of the same
    bytes: padded, standard alphabet, stray bits)."""
    origin: str
    """``clientDataJSON.origin`` (honest: the authenticator's ``origin``)."""
    cross_origin: bool | None
    """``clientDataJSON.crossOrigin``; ``None`` omits the key (honest: ``false``, like Chrome)."""
    top_origin: str
    """Adds ``clientDataJSON.topOrigin`` (honest: absent; browsers send it for iframes)."""
    rp_id: str
    """Hash this RP ID into authenticator data instead of the requested one."""
    user_present: bool
    """The UP flag (honest: ``True``)."""
    user_verified: bool
    """The UV flag (honest: the authenticator's ``user_verified``)."""
    backup_eligible: bool
    """The BE flag (honest: the authenticator's ``backup_eligible``)."""
    backup_state: bool
    """The BS flag (honest: the authenticator's ``backup_state``)."""
    sign_count: int
    """Report this signature counter (the stored counter still advances honestly)."""
    credential_id: bytes
    """create(): the new credential gets this id. get(): report this id (key unchanged)."""
    algorithm: int
    """create(): use this COSE algorithm even if not offered. get(): sign in this algorithm
    with a throwaway key when it differs from the credential's."""
    authenticator_data_suffix: bytes
    """Bytes appended after the authenticator data (trailing garbage)."""
    extensions: bytes
    """Raw CBOR put in the authenticator data as its extensions, with the ED flag set
    (honest: no extensions and ED clear)."""
    truncate_authenticator_data: int
    """Cut the authenticator data to this many bytes."""
    extra_fields: dict[str, Any]
    """Merged into the top-level JSON."""
    drop_fields: list[str]
    """Dotted paths to delete from the JSON, e.g. ``"response.signature"``."""


class CreateOverrides(_CommonOverrides, total=False):
    """Overrides for :meth:`SoftwareAuthenticator.create`."""

    attestation_object: bytes
    """Raw bytes to send as ``attestationObject`` instead (e.g. malformed CBOR)."""
    attestation_object_suffix: bytes
    """Bytes appended after the attestation object's CBOR (trailing garbage)."""
    cose_algorithm_label: int
    """The "alg" written in the credential public key, whatever the key is (honest: the
    algorithm of the key)."""


class GetOverrides(_CommonOverrides, total=False):
    """Overrides for :meth:`SoftwareAuthenticator.get`."""

    user_handle: bytes | None
    """``response.userHandle``; ``None`` omits it (honest: the credential's user handle)."""
    bad_signature: bool
    """Flip one bit of the signature."""
    sign_with: StoredCredential
    """Sign with another credential's private key and algorithm."""


def _reject_unknown(overrides: Mapping[str, object], allowed: type) -> None:
    unknown = set(overrides) - set(allowed.__optional_keys__)  # type: ignore[attr-defined]
    if unknown:
        raise TypeError(f"unexpected override(s) for {allowed.__name__}: {sorted(unknown)}")


# --------------------------------------------------------------------------------------------
# The authenticator
# --------------------------------------------------------------------------------------------


class SoftwareAuthenticator:
    """A platform authenticator (think Touch ID or Windows Hello) plus the browser using it.

    Args:
        rp_id: RP ID used when options carry none (browsers default to the origin's host).
        origin: The origin of the page calling WebAuthn; goes into ``clientDataJSON``.
        algorithm: The COSE algorithm new credentials use; it must be offered by the server.
        aaguid: The authenticator model identifier in attested credential data (§6.5.1).
            All zeros is what privacy-preserving "none" attestation typically sends.
        backup_eligible: BE flag: credentials can be synced (a "multi-device" passkey, §6.1.3).
        backup_state: BS flag: credentials are currently backed up.
        user_verified: UV flag: the user passed a PIN or biometric check *on the device*.
        sign_count_step: How much the counter grows per assertion; 0 simulates synced passkeys
            that always report 0 (§6.1.1).
        transports: Reported as ``response.transports`` at registration.
    """

    def __init__(
        self,
        *,
        rp_id: str = "localhost",
        origin: str = "http://localhost:5000",
        algorithm: int = ES256,
        aaguid: bytes = bytes(16),
        backup_eligible: bool = False,
        backup_state: bool = False,
        user_verified: bool = True,
        sign_count_step: int = 1,
        transports: list[str] | None = None,
    ) -> None:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise UnsupportedAlgorithmError(f"COSE algorithm {algorithm} is not supported here")
        if len(aaguid) != 16:
            raise ValueError("an AAGUID is exactly 16 bytes")
        self.rp_id = rp_id
        self.origin = origin
        self.algorithm = algorithm
        self.aaguid = aaguid
        self.backup_eligible = backup_eligible
        self.backup_state = backup_state
        self.user_verified = user_verified
        self.sign_count_step = sign_count_step
        self.transports = ["internal"] if transports is None else list(transports)
        self.credentials: list[StoredCredential] = []
        """Every credential created so far, oldest first."""

    # -- registration ------------------------------------------------------------------------

    def create(
        self, options: Mapping[str, Any], **overrides: Unpack[CreateOverrides]
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.create()`` and remember the new credential.

        ``options`` is ``PublicKeyCredentialCreationOptionsJSON`` (WebAuthn L3 §5.4) as sent by
        the server: ``challenge``, ``rp`` {id, name}, ``user`` {id (base64url), name,
        displayName}, ``pubKeyCredParams``, ``excludeCredentials``... A ``{"publicKey": {...}}``
        wrapper is accepted too. Returns ``RegistrationResponseJSON``.

        Follows the client steps of §5.1.3 and authenticatorMakeCredential (§6.3.2).

        Raises:
            ExcludedCredentialError: a credential of ours is in ``excludeCredentials``.
            UnsupportedAlgorithmError: ``self.algorithm`` is not in ``pubKeyCredParams``.
            RelyingPartyMismatchError: ``rp.id`` does not fit ``self.origin``.
        """
        _reject_unknown(overrides, CreateOverrides)
        options = _unwrap(options)
        rp_id = options.get("rp", {}).get("id") or self.rp_id
        self._check_rp_id(rp_id)

        # §6.3.2: refuse to create a second passkey for an account we already hold.
        for descriptor in options.get("excludeCredentials") or []:
            excluded_id = b64url_decode(descriptor["id"])
            if any(c.credential_id == excluded_id and c.rp_id == rp_id for c in self.credentials):
                raise ExcludedCredentialError(
                    f"credential {descriptor['id']} is in excludeCredentials"
                )

        algorithm = overrides["algorithm"] if "algorithm" in overrides else self._pick(options)
        private_key = generate_private_key(algorithm)
        if "credential_id" in overrides:
            credential_id = overrides["credential_id"]
        else:
            credential_id = secrets.token_bytes(32)  # random, so it cannot track the user
        credential = StoredCredential(
            credential_id=credential_id,
            private_key=private_key,
            algorithm=algorithm,
            rp_id=rp_id,
            user_handle=b64url_decode(options["user"]["id"]),
            sign_count=0,
        )

        # Attested credential data (§6.5.1): aaguid | credentialIdLength | credentialId | key.
        attested_credential_data = (
            self.aaguid
            + len(credential.credential_id).to_bytes(2, "big")
            + credential.credential_id
            + _relabel(cose_public_key(private_key, algorithm), overrides)
        )
        authenticator_data = self._authenticator_data(
            rp_id, credential.sign_count, overrides, attested_credential_data
        )
        client_data_json = self._client_data_json(
            "webauthn.create", b64url_decode(options["challenge"]), overrides
        )

        # The attestation object (§6.5.4) with the "none" format (§8.7): no attestation
        # statement, so the server learns nothing about the device model beyond the AAGUID.
        if "attestation_object" in overrides:
            attestation_object = overrides["attestation_object"]
        else:
            attestation_object = cbor2.dumps(
                {"fmt": "none", "attStmt": {}, "authData": authenticator_data}, canonical=True
            ) + overrides.get("attestation_object_suffix", b"")

        self.credentials.append(credential)
        result = {
            "id": credential.id_b64url,
            "rawId": credential.id_b64url,
            "type": overrides.get("type", "public-key"),
            "response": {
                "clientDataJSON": b64url(client_data_json),
                "attestationObject": b64url(attestation_object),
                "transports": list(self.transports),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return _finish(result, overrides)

    # -- authentication ----------------------------------------------------------------------

    def get(
        self,
        options: Mapping[str, Any],
        *,
        credential: StoredCredential | None = None,
        **overrides: Unpack[GetOverrides],
    ) -> dict[str, Any]:
        """Answer ``navigator.credentials.get()`` with an assertion.

        ``options`` is ``PublicKeyCredentialRequestOptionsJSON`` (WebAuthn L3 §5.5):
        ``challenge``, ``rpId``, ``allowCredentials``, ``userVerification``... Returns
        ``AuthenticationResponseJSON``.

        Uses ``credential`` if given; otherwise the most recently created credential for the
        options' ``rpId`` that is in ``allowCredentials`` (any, when that list is empty: a
        discoverable-credential sign-in). Increments that credential's ``sign_count`` by
        ``sign_count_step`` (§6.1.1), then signs ``authenticatorData || SHA-256(
        clientDataJSON)`` (authenticatorGetAssertion, §6.3.3).

        Raises:
            NoCredentialError: no credential of ours fits the request.
            RelyingPartyMismatchError: ``rpId`` does not fit ``self.origin``.
        """
        _reject_unknown(overrides, GetOverrides)
        options = _unwrap(options)
        rp_id = options.get("rpId") or self.rp_id
        self._check_rp_id(rp_id)
        if credential is None:
            credential = self._find(rp_id, options.get("allowCredentials") or [])

        credential.sign_count += self.sign_count_step
        authenticator_data = self._authenticator_data(
            rp_id, credential.sign_count, overrides, attested_credential_data=None
        )
        client_data_json = self._client_data_json(
            "webauthn.get", b64url_decode(options["challenge"]), overrides
        )

        # §6.3.3: the assertion signature covers authenticatorData || hash(clientDataJSON).
        signed_data = authenticator_data + hashlib.sha256(client_data_json).digest()
        private_key, algorithm = credential.private_key, credential.algorithm
        if "sign_with" in overrides:
            other = overrides["sign_with"]
            private_key, algorithm = other.private_key, other.algorithm
        elif "algorithm" in overrides and overrides["algorithm"] != algorithm:
            algorithm = overrides["algorithm"]
            private_key = generate_private_key(algorithm)
        signature = sign(private_key, algorithm, signed_data)
        if overrides.get("bad_signature", False):
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])

        raw_id = overrides.get("credential_id", credential.credential_id)
        response: dict[str, Any] = {
            "clientDataJSON": b64url(client_data_json),
            "authenticatorData": b64url(authenticator_data),
            "signature": b64url(signature),
        }
        user_handle = overrides.get("user_handle", credential.user_handle)
        if user_handle is not None:
            response["userHandle"] = b64url(user_handle)
        result = {
            "id": b64url(raw_id),
            "rawId": b64url(raw_id),
            "type": overrides.get("type", "public-key"),
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
        return _finish(result, overrides)

    # -- the pieces --------------------------------------------------------------------------

    def _check_rp_id(self, rp_id: str) -> None:
        """The browser's RP ID check (§5.1.3 and §5.1.4), minus the public-suffix
        list: the RP ID must be the origin's host or a parent domain of it."""
        host = urlsplit(self.origin).hostname or ""
        if host != rp_id and not host.endswith("." + rp_id):
            raise RelyingPartyMismatchError(
                f"RP ID {rp_id!r} is not valid for origin {self.origin!r}; to simulate an "
                "authenticator that ignores this, pass the rp_id= or origin= override instead"
            )

    def _pick(self, options: Mapping[str, Any]) -> int:
        """Choose our algorithm if the server offers it (§5.1.3)."""
        params = options.get("pubKeyCredParams") or []
        offered = [p["alg"] for p in params if p.get("type") == "public-key"]
        if not params:
            offered = [ES256, RS256]  # §5.1.3: an empty list means "ES256 and RS256"
        if self.algorithm not in offered:
            raise UnsupportedAlgorithmError(
                f"server offers {offered}, this authenticator only does {self.algorithm}"
            )
        return self.algorithm

    def _find(self, rp_id: str, allow_credentials: list[dict[str, Any]]) -> StoredCredential:
        """The most recent credential for ``rp_id`` that is allowed (§6.3.3)."""
        allowed = {b64url_decode(d["id"]) for d in allow_credentials}
        for candidate in reversed(self.credentials):
            if candidate.rp_id == rp_id and (not allowed or candidate.credential_id in allowed):
                return candidate
        raise NoCredentialError(f"no credential for RP ID {rp_id!r} matches allowCredentials")

    def _authenticator_data(
        self,
        rp_id: str,
        sign_count: int,
        overrides: Mapping[str, Any],
        attested_credential_data: bytes | None,
    ) -> bytes:
        """Authenticator data (§6.1).

        rpIdHash (32) | flags (1) | signCount (4, big-endian) | [attestedCredentialData]
        """
        flags = 0
        if overrides.get("user_present", True):
            flags |= FLAG_UP
        if overrides.get("user_verified", self.user_verified):
            flags |= FLAG_UV
        if overrides.get("backup_eligible", self.backup_eligible):
            flags |= FLAG_BE
        if overrides.get("backup_state", self.backup_state):
            flags |= FLAG_BS
        if attested_credential_data is not None:
            flags |= FLAG_AT
        if "extensions" in overrides:
            flags |= FLAG_ED

        data: bytes = (
            hashlib.sha256(overrides.get("rp_id", rp_id).encode("utf-8")).digest()
            + bytes([flags])
            + overrides.get("sign_count", sign_count).to_bytes(4, "big")
            + (attested_credential_data or b"")
            + overrides.get("extensions", b"")
            + overrides.get("authenticator_data_suffix", b"")
        )
        if "truncate_authenticator_data" in overrides:
            data = data[: overrides["truncate_authenticator_data"]]
        return data

    def _client_data_json(
        self, ceremony: str, challenge: bytes, overrides: Mapping[str, Any]
    ) -> bytes:
        """``CollectedClientData`` (§5.8.1), serialised like browsers do (§5.8.1.1).

        Key order type, challenge, origin, crossOrigin[, topOrigin]; compact JSON.
        """
        client_data: dict[str, Any] = {
            "type": overrides.get("client_data_type", ceremony),
            "challenge": overrides.get(
                "challenge_text", b64url(overrides.get("challenge", challenge))
            ),
            "origin": overrides.get("origin", self.origin),
        }
        cross_origin = overrides.get("cross_origin", False)
        if cross_origin is not None:
            client_data["crossOrigin"] = cross_origin
        if "top_origin" in overrides:
            client_data["topOrigin"] = overrides["top_origin"]
        return json.dumps(client_data, separators=(",", ":")).encode("utf-8")


def _relabel(cose_key: bytes, overrides: Mapping[str, Any]) -> bytes:
    """The ``cose_algorithm_label`` override: the same key under another "alg" (label 3)."""
    if "cose_algorithm_label" not in overrides:
        return cose_key
    relabelled = {**cbor2.loads(cose_key), 3: overrides["cose_algorithm_label"]}
    return cbor2.dumps(relabelled, canonical=True)


def _unwrap(options: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept both bare options and ``{"publicKey": options}`` as passed to the JS API."""
    inner = options.get("publicKey")
    if "challenge" not in options and isinstance(inner, Mapping):
        return inner
    return options


def _finish(result: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the ``extra_fields`` and ``drop_fields`` overrides to the response JSON."""
    result.update(overrides.get("extra_fields", {}))
    for path in overrides.get("drop_fields", []):
        *parents, last = path.split(".")
        node = result
        for key in parents:
            node = node[key]
        if last not in node:
            raise KeyError(f"drop_fields: {path!r} is not in the response")
        del node[last]
    return result
