"""The consent receipt's payload and signature, without HTTP (authdemo/receipts/service.py,
docs/decisions/0027-consent-receipts.md)."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jws

from authdemo.models import ConsentEvent
from authdemo.receipts import service
from authdemo.secrets_at_rest import KeyedHash

MASTER = bytes(range(32))
ROTATED = bytes(range(32, 64))
AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def issuer(master: bytes = MASTER) -> service.Issuer:
    return service.Issuer(
        signing_key=service.SigningKey.from_master(master),
        receipt_ids=KeyedHash.from_master_keys([master], service.ID_PURPOSE),
        pseudonyms=KeyedHash.from_master_keys([master], service.PSEUDONYM_PURPOSE),
        origin="https://login.example.org",
        service_name="Example",
        controller_name="Example Ltd",
        controller_contact="privacy@example.org",
        retention_days=1095,
        decline_days=90,
    )


def event(action: str = "granted", method: str = "signup:passkey-consent") -> ConsentEvent:
    return ConsentEvent(
        id=7,
        occurred_at=AT,
        user_ref="0123456789abcdef0123456789abcdef",
        purpose="passkey_signin",
        action=action,
        notice_version="2",
        notice_language="de",
        notice_sha256="a" * 64,
        facts_sha256="b" * 64,
        method=method,
    )


def claims(**kwargs: Any) -> dict[str, Any]:
    return service.claims(event(), issuer(), subject="c" * 64, receipt_id="rid", **kwargs)


def test_the_payload_carries_what_the_issue_lists() -> None:
    body = claims()
    assert (body["iss"], body["sub"], body["jti"]) == ("https://login.example.org", "c" * 64, "rid")
    assert body["iat"] == int(AT.timestamp())
    assert body["controller"] == {"name": "Example Ltd", "contact": "privacy@example.org"}
    assert body["purpose"]["id"] == "passkey_signin"
    assert body["notice"] == {
        "version": "2",
        "language": "de",
        "sha256": "a" * 64,
        "url": "https://login.example.org/notices/passkeys/2/de",
    }
    assert body["deployment_facts"] == {"sha256": "b" * 64}
    assert body["decision"] == {
        "action": "granted",
        "renewal": False,
        "at": "2026-12-04T09:30:00+00:00",
        "how": "signup:passkey-consent",
    }
    assert body["withdraw"]["url"] == "https://login.example.org/account/passkeys/consent"
    assert body["receipt"]["id"] == "rid"
    assert body["receipt"]["verify_with"] == "https://login.example.org/.well-known/jwks.json"


def test_the_subject_says_the_operator_can_link_it() -> None:
    subject = claims()["subject"]
    assert subject["id_type"] == "keyed-pseudonym"
    assert "the service can link it" in subject["about_id"]


def test_no_username_unless_given_and_then_the_receipt_says_so() -> None:
    assert "username" not in claims()["subject"]
    assert claims()["subject"]["username_included"] is False
    asked = claims(username="alice")["subject"]
    assert (asked["username"], asked["username_included"]) == ("alice", True)
    assert "you asked" in asked["about_username"]


def test_a_grant_when_asked_again_is_a_renewal() -> None:
    renewed = service.claims(
        event(method="reconsent:agree-button"), issuer(), subject="s", receipt_id="r"
    )
    assert renewed["decision"]["renewal"] is True
    withdrawn = service.claims(
        event("withdrawn", "reconsent:stop-using-passkeys-button"),
        issuer(),
        subject="s",
        receipt_id="r",
    )
    assert (withdrawn["decision"]["action"], withdrawn["decision"]["renewal"]) == (
        "withdrawn",
        False,
    )


def test_signing_is_deterministic_and_verifies_with_the_published_key() -> None:
    key = issuer().signing_key
    token = service.sign(claims(), key)
    assert token == service.sign(claims(), key)
    verified = service.verify(token, {"keys": [key.public_jwk]})
    assert verified.claims == claims()
    assert verified.header == {"alg": "EdDSA", "kid": key.kid, "typ": "consent-receipt+jwt"}


def test_the_signing_key_changes_with_the_data_key() -> None:
    old, new = issuer(MASTER).signing_key, issuer(ROTATED).signing_key
    assert old.kid != new.kid
    token = service.sign(claims(), old)
    with pytest.raises(service.InvalidReceipt, match="not published"):
        service.verify(token, {"keys": [new.public_jwk]})


def test_a_token_of_another_type_or_algorithm_is_refused() -> None:
    key = issuer().signing_key
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    other = jws.serialize_compact(header, b"{}", key.key, algorithms=["EdDSA"])
    with pytest.raises(service.InvalidReceipt, match="typ"):
        service.verify(other, {"keys": [key.public_jwk]})
    unsigned = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "none", "kid": key.kid, "typ": service.RECEIPT_TYPE}, {})
    )
    with pytest.raises(service.InvalidReceipt):
        service.verify(unsigned + ".", {"keys": [key.public_jwk]})


def test_receipt_ids_hide_the_row_number_and_resolve_under_a_previous_key() -> None:
    rid = service.receipt_id(issuer().receipt_ids, 7)
    assert len(rid) == 22  # 16 bytes of an HMAC, base64url
    assert rid != service.receipt_id(issuer().receipt_ids, 8)
    both = KeyedHash.from_master_keys([ROTATED, MASTER], service.ID_PURPOSE)
    assert service.receipt_id(both, 7) != rid
    assert service._matches(both, 7, rid)


def test_its_words_are_asked_for_in_the_language_of_the_notice_the_row_records() -> None:
    asked: list[str] = []

    def words_in(language: str) -> service.Words:
        asked.append(language)
        return service.Words(language, lambda message: f"[{language}] {message}")

    body = service.claims(
        event(),  # notice_language "de"
        dataclasses.replace(issuer(), words_in=words_in),
        subject="s",
        receipt_id="r",
        username="alice",
    )
    assert asked == ["de"]
    assert body["receipt"]["language"] == "de"
    for words in (
        body["purpose"]["description"],
        body["withdraw"]["how"],
        body["subject"]["about_id"],
        body["subject"]["about_username"],
        body["retention"]["about"],
    ):
        assert words.startswith("[de] ")
    assert body["purpose"]["id"] == "passkey_signin"  # codes are not words


def test_without_a_catalogue_the_words_are_english_and_say_so() -> None:
    body = claims()
    assert body["receipt"]["language"] == "en"
    assert body["purpose"]["description"] == service.PURPOSE_DESCRIPTION
