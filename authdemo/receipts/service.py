"""Consent receipts: a signed record of one consent decision that the person keeps.

One receipt per row of the consent ledger (``consent_events``): what was decided
(granted, declined, withdrawn; a grant made when asked again is a renewal), about which
purpose, on which notice (version, language, SHA-256 of the exact text) and beside which
deployment facts (their SHA-256), when, by whom (a keyed pseudonym, never the username
unless the person asks for it), who is responsible, how to withdraw and how long the
record is kept (what the retention purge does with that kind of row). The structure
follows ISO/IEC TS 27560:2023 (consent record information structure) and the Kantara
Initiative Consent Receipt Specification v1.1 as a readable basis; it does not claim
conformance to either.

Receipts are *regenerated* from the ledger, never stored: no new store of personal data.
The signature is a JWS (RFC 7515) in the compact serialization, ``alg`` EdDSA with
Ed25519 (RFC 8037), so a regenerated receipt is the same bytes as long as the signing key
and the receipt's wording are the same (Ed25519 signatures are deterministic, the claims
are serialised canonically).

A receipt's words for the person (what the purpose is, how to withdraw, what the
pseudonym is) are in the language of the notice text the person agreed to, which the
ledger row records (``notice_language``), whatever language the download is asked in:
the receipt stands beside that notice (Art 12(1), clear and plain language). Codes,
names of standards and addresses stay as they are. ``receipt.language`` says which
language its words are in (English when the app has no catalogue for the notice's).

The signing key is derived from ``DATA_KEY`` with HKDF and its own purpose label, so it
rotates with the other keys; each key that signs is recorded (``consent_receipt_keys``)
and ``/.well-known/jwks.json`` publishes it for ``CONSENT_RETENTION_DAYS`` after its last
use, also after its data key has left the configuration. See
docs/decisions/0027-consent-receipts.md.

Functions take the session and ``now`` explicitly and never commit.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_babel import lazy_gettext
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from authdemo import base64url
from authdemo.consent.notices import DEFAULT_LANGUAGE
from authdemo.errors import AuthDemoError
from authdemo.models import ConsentEvent, ReceiptKey
from authdemo.secrets_at_rest import KeyedHash, derive

#: RFC 8037 EdDSA with Ed25519. RFC 9864 (2025) deprecates the polymorphic "EdDSA" name
#: in favour of "Ed25519"; most JOSE tools (and joserfc 1.8) only know "EdDSA" yet, and a
#: receipt must verify with any of them. The JWK's ``crv`` pins the curve, so the name is
#: unambiguous here. Revisit when the tools catch up (decision 0027).
ALGORITHM = "EdDSA"
warnings.filterwarnings(
    "ignore", message="EdDSA is deprecated via RFC 9864", category=SecurityWarning
)
#: Explicit typing (RFC 8725 §3.11): a receipt cannot be taken for another kind of token.
RECEIPT_TYPE = "consent-receipt+jwt"
RECEIPT_FORMAT = "authdemo-consent-receipt"
RECEIPT_FORMAT_VERSION = 1
#: HKDF purposes (authdemo.secrets_at_rest.derive).
SIGNING_PURPOSE = "consent-receipt-signing"
ID_PURPOSE = "consent-receipt-id"
#: The erasure pseudonym's purpose (authdemo.privacy.service.pseudonym_for).
PSEUDONYM_PURPOSE = "pseudonym"
_ID_BYTES = 16

#: What each ledger action is called on a receipt.
DECISIONS = {"granted": "granted", "declined": "declined", "withdrawn": "withdrawn"}
#: Ledger methods of a grant made when asked again after a material change.
RENEWAL_METHOD_PREFIX = "reconsent:"


def N_(message: str) -> str:
    """Marks a message for the catalogue (Babel extracts ``N_``) and leaves it English:
    a receipt says it in the notice's language through :attr:`Issuer.words_in`."""
    return message


# The receipt's words for the person, as the English msgids of the catalogue.
ABOUT_ID = N_(
    "HMAC-SHA256 of your account id under a key only the service holds. It names no one by "
    "itself, but the service can link it to your account and to its own record of this "
    "decision (also after your account is erased)."
)
ABOUT_USERNAME = N_("Included because you asked for it when downloading.")
PURPOSE_DESCRIPTION = N_("Creating and using passkeys to sign in to your account")
# Translators: quote the page's heading and its two withdraw buttons exactly as the
# consent page shows them (templates/consent/manage.html, templates/consent/_macros.html);
# tests/functional/test_receipt_claims.py finds each quoted label on that page.
HOW_TO_WITHDRAW = N_(
    "Sign in, open the page 'Passkey sign-in' at this address and choose 'Withdraw and "
    "delete my passkeys' (or 'Withdraw anyway and delete my passkeys', as the button reads "
    "when a passkey is your only way in): one click (if a passkey is your only way in and "
    "you signed in more than a few minutes ago, you first confirm it's you with it). Your "
    "passkeys are deleted from our records at once."
)
# What ``retention.days`` means for each kind of decision: what ``flask retention purge``
# does with its ledger row (authdemo.privacy.service.purge_consent_events).
ABOUT_RETENTION_KEPT = N_(
    "How many days after this decision the service keeps its record; longer only while this "
    "is still your latest choice and you have an account. If your account is deleted, the "
    "record is kept for the rest of that time under the pseudonym on this receipt instead of "
    "your account, then deleted."
)
ABOUT_RETENTION_DECLINED = N_(
    'How many days after this "No thanks" the service keeps its record: the time it does not '
    "ask you again. Then the record is deleted, even if this is still your latest choice. If "
    "your account is deleted before then, the record is kept until then under the pseudonym "
    "on this receipt instead of your account."
)


@dataclass(frozen=True, slots=True)
class Words:
    """A receipt's words in one language: ``say`` gives the text of one of the messages
    above in ``language``."""

    language: str
    say: Callable[[str], str]


def in_english(_language: str) -> Words:
    """The words of a receipt when no catalogue is at hand (the messages as written)."""
    return Words(DEFAULT_LANGUAGE, lambda message: message)


class ReceiptNotFound(AuthDemoError):
    """No receipt of *this* person has that id (another person's id looks the same)."""

    status = 404
    slug = "no-such-receipt"
    title = lazy_gettext("There is no such receipt.")


class InvalidReceipt(Exception):
    """The file is not a receipt signed by a published key, or it was altered."""


# --- keys ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 key pair derived from one data key; ``kid`` is its RFC 7638 thumbprint."""

    key: OKPKey

    @classmethod
    def from_master(cls, master: bytes) -> SigningKey:
        private = Ed25519PrivateKey.from_private_bytes(derive(master, SIGNING_PURPOSE))
        kid = OKPKey.import_key(private).thumbprint()
        return cls(OKPKey.import_key(private, {"kid": kid, "use": "sig", "alg": ALGORITHM}))

    @property
    def kid(self) -> str:
        kid = self.key.kid
        assert kid is not None
        return kid

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.kid, str(self.key.as_dict(private=False)["x"]))


def public_jwk(kid: str, x: str) -> dict[str, Any]:
    """One entry of the JWK Set (RFC 7517 §5), in a fixed member order."""
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True, slots=True)
class Issuer:
    """Everything a receipt needs from the deployment (built from configuration)."""

    signing_key: SigningKey
    #: HMAC keys for receipt ids and for the subject's pseudonym (current first).
    receipt_ids: KeyedHash
    pseudonyms: KeyedHash
    origin: str
    service_name: str
    controller_name: str
    controller_contact: str
    #: How long the ledger keeps a grant or a withdrawal after it (CONSENT_RETENTION_DAYS),
    #: and how long a signing key stays published after its last use.
    retention_days: int
    #: How long the ledger keeps a "No thanks" (CONSENT_REASK_DAYS): only while it serves
    #: not asking again.
    decline_days: int
    #: The receipt's words in a notice's language (``authdemo.receipts.wiring.words_in``:
    #: the app's catalogues); English by default.
    words_in: Callable[[str], Words] = in_english

    @property
    def jwks_url(self) -> str:
        return f"{self.origin}/.well-known/jwks.json"


def record_key_use(session: Session, key: SigningKey, *, now: datetime) -> None:
    """Note that ``key`` signs at ``now``: it stays published until ``now`` plus the
    consent retention period. Part of the signing use case's transaction."""
    row = session.get(ReceiptKey, key.kid)
    if row is None:
        x = str(key.key.as_dict(private=False)["x"])
        session.add(ReceiptKey(kid=key.kid, public_x=x, first_used_at=now, last_used_at=now))
    elif row.last_used_at < now:
        row.last_used_at = now


def published_keys(
    session: Session, *, current: SigningKey, now: datetime, retention_days: int
) -> dict[str, Any]:
    """The JWK Set at ``/.well-known/jwks.json``: the current key (so a verifier can fetch
    it before the first receipt) and every key that signed within the retention period,
    newest use first. A key past it is gone: its receipts no longer verify against us."""
    since = now - timedelta(days=retention_days)
    keys = [current.public_jwk]
    rows = session.execute(
        select(ReceiptKey.kid, ReceiptKey.public_x)
        .where(ReceiptKey.last_used_at >= since, ReceiptKey.kid != current.kid)
        .order_by(ReceiptKey.last_used_at.desc(), ReceiptKey.kid)
    )
    keys.extend(public_jwk(row.kid, row.public_x) for row in rows)
    return {"keys": keys}


# --- receipt ids -------------------------------------------------------------------------


def receipt_id(ids: KeyedHash, ledger_id: int) -> str:
    """An opaque id for a ledger row: reveals neither the row number nor how many
    decisions there are, and cannot be guessed for another person's row."""
    return base64url.encode(ids.digest(str(ledger_id).encode())[:_ID_BYTES])


def _matches(ids: KeyedHash, ledger_id: int, wanted: str) -> bool:
    # Ids made under a previous data key still resolve while it is configured.
    return any(
        base64url.encode(d[:_ID_BYTES]) == wanted for d in ids.candidates(str(ledger_id).encode())
    )


def ledger_of(session: Session, user_id: str) -> list[ConsentEvent]:
    """The person's ledger rows, newest first (the privacy dashboard's order)."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.user_ref == user_id)
            .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        )
    )


def latest_of(session: Session, user_id: str) -> ConsentEvent | None:
    """The person's most recent ledger row (what the page after a decision offers)."""
    return session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.user_ref == user_id)
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        .limit(1)
    ).first()


def find(session: Session, ids: KeyedHash, *, user_id: str, wanted: object) -> ConsentEvent:
    """The person's own ledger row with receipt id ``wanted``; anything else is a 404 that
    says nothing (not whether the id exists for someone else)."""
    if isinstance(wanted, str) and len(wanted) <= base64url.max_length(_ID_BYTES):
        for event in ledger_of(session, user_id):
            if _matches(ids, event.id, wanted):
                return event
    raise ReceiptNotFound()


# --- the receipt ---------------------------------------------------------------------------


def subject_pseudonym(pseudonyms: KeyedHash, user_id: str) -> str:
    """HMAC-SHA256 of the account id under the service's pseudonym key: the same value
    the ledger row carries (after ``erased:``) once the account is erased
    (authdemo.privacy.service.pseudonym_for). Not anonymous: the operator can link it."""
    return pseudonyms.digest(user_id.encode()).hex()


def claims(
    event: ConsentEvent,
    issuer: Issuer,
    *,
    subject: str,
    receipt_id: str,
    username: str | None = None,
) -> dict[str, Any]:
    """The receipt's payload for one ledger row. ``username`` only when the person asked.
    Its words are in the language of the notice the row records."""
    words = issuer.words_in(event.notice_language)
    say = words.say
    at = int(event.occurred_at.timestamp())
    renewal = event.action == "granted" and event.method.startswith(RENEWAL_METHOD_PREFIX)
    person: dict[str, Any] = {
        "id": subject,
        "id_type": "keyed-pseudonym",
        "about_id": say(ABOUT_ID),
        "username_included": username is not None,
    }
    if username is not None:
        person["username"] = username
        person["about_username"] = say(ABOUT_USERNAME)
    return {
        # JWT-registered names (RFC 7519 §4.1), so generic tools show them.
        "iss": issuer.origin,
        "sub": subject,
        "jti": receipt_id,
        "iat": at,
        "receipt": {
            "format": RECEIPT_FORMAT,
            "version": RECEIPT_FORMAT_VERSION,
            "id": receipt_id,
            # The language of the receipt's own words (ISO 639-1), as the notice's.
            "language": words.language,
            "structured_after": [
                "ISO/IEC TS 27560:2023 (consent record information structure)",
                "Kantara Initiative Consent Receipt Specification v1.1",
            ],
            "issuer": {"name": issuer.service_name, "url": issuer.origin},
            "verify_with": issuer.jwks_url,
        },
        "controller": {"name": issuer.controller_name, "contact": issuer.controller_contact},
        "subject": person,
        "purpose": {
            "id": event.purpose,
            "description": say(PURPOSE_DESCRIPTION),
        },
        "notice": {
            "version": event.notice_version,
            # The language of the exact text shown, and that text's own page.
            "language": event.notice_language,
            "sha256": event.notice_sha256,
            "url": (
                f"{issuer.origin}/notices/passkeys/{event.notice_version}/{event.notice_language}"
            ),
        },
        "deployment_facts": {"sha256": event.facts_sha256},
        "decision": {
            "action": DECISIONS[event.action],
            "renewal": renewal,
            "at": event.occurred_at.isoformat(),
            "how": event.method,
        },
        "withdraw": {
            "url": f"{issuer.origin}/account/passkeys/consent",
            "how": say(HOW_TO_WITHDRAW),
        },
        "retention": retention(event, issuer, say),
    }


def retention(event: ConsentEvent, issuer: Issuer, say: Callable[[str], str]) -> dict[str, Any]:
    """What ``flask retention purge`` does with the row (authdemo.privacy.service.
    purge_consent_events), and so what the receipt may promise (Art 13(2)(a)): a grant or
    a withdrawal goes ``retention_days`` after it, or later while it is the person's latest
    choice and their account exists (it must stay demonstrable, Art 7(1)); a "No thanks"
    goes when the re-ask period ends, latest choice or not (Art 5(1)(e)). An erased
    account's rows stay, pseudonymised, for the rest of their time."""
    if event.action == "declined":
        return {
            "days": issuer.decline_days,
            "longer_while_latest": False,
            "about": say(ABOUT_RETENTION_DECLINED),
        }
    return {
        "days": issuer.retention_days,
        "longer_while_latest": True,
        "about": say(ABOUT_RETENTION_KEPT),
    }


def sign(payload: Mapping[str, Any], key: SigningKey) -> str:
    """Compact JWS over the canonical JSON of ``payload`` (sorted keys, no spaces)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": RECEIPT_TYPE}
    return jws.serialize_compact(header, body.encode(), key.key, algorithms=[ALGORITHM])


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_id: str
    ledger_id: int
    token: str

    @property
    def filename(self) -> str:
        return f"consent-receipt-{self.receipt_id}.jws"


def issue(
    session: Session,
    issuer: Issuer,
    *,
    user_id: str,
    wanted: object,
    username: str | None,
    now: datetime,
) -> Receipt:
    """The use case behind "Download your consent receipt": the person's own row only,
    signed now with the current key (recorded, so it stays published)."""
    event = find(session, issuer.receipt_ids, user_id=user_id, wanted=wanted)
    return _issue(session, issuer, event, user_id=user_id, username=username, now=now)


def for_export(
    session: Session, issuer: Issuer, *, user_id: str, now: datetime
) -> list[dict[str, Any]]:
    """One receipt per ledger row of the person, without the username, for their export
    (GDPR Art 15 and 20): part of the export's use case, which commits."""
    return [
        {"receipt_id": r.receipt_id, "consent_event_id": r.ledger_id, "jws": r.token}
        for r in (
            _issue(session, issuer, event, user_id=user_id, username=None, now=now)
            for event in ledger_of(session, user_id)
        )
    ]


def _issue(
    session: Session,
    issuer: Issuer,
    event: ConsentEvent,
    *,
    user_id: str,
    username: str | None,
    now: datetime,
) -> Receipt:
    rid = receipt_id(issuer.receipt_ids, event.id)
    payload = claims(
        event,
        issuer,
        subject=subject_pseudonym(issuer.pseudonyms, user_id),
        receipt_id=rid,
        username=username,
    )
    record_key_use(session, issuer.signing_key, now=now)
    return Receipt(rid, event.id, sign(payload, issuer.signing_key))


# --- verifying -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verified:
    header: dict[str, Any]
    claims: dict[str, Any]


def verify(token: str, jwks: Mapping[str, Any]) -> Verified:
    """Check a receipt against a JWK Set (the published one, or a saved copy): the
    signature by the key its ``kid`` names, ``alg`` EdDSA only, ``typ`` a consent receipt.
    Raises :class:`InvalidReceipt` with a plain reason."""
    keys: Sequence[Mapping[str, Any]] = jwks.get("keys") or []
    usable = [k for k in keys if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"]
    try:
        header = jws.extract_compact(token.strip().encode()).headers()
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidReceipt(f"not a compact JWS: {exc}") from exc
    if header.get("typ") != RECEIPT_TYPE:
        raise InvalidReceipt("not a consent receipt (typ)")
    signer = [dict(k) for k in usable if k.get("kid") == header.get("kid")]
    if not signer:
        raise InvalidReceipt(f"signed by a key that is not published: {header.get('kid')}")
    try:
        key_set = KeySet.import_key_set({"keys": signer})
        verified = jws.deserialize_compact(token.strip(), key_set, algorithms=[ALGORITHM])
        payload = json.loads(verified.payload)
    except (JoseError, ValueError) as exc:
        raise InvalidReceipt(f"the signature does not verify: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidReceipt("the payload is not a JSON object")
    return Verified(dict(verified.headers()), payload)
