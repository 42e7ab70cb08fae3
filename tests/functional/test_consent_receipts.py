"""Signed consent receipts (issue 19 item 4, docs/decisions/0027-consent-receipts.md).

The page that follows each consent decision (grant, "No thanks", withdrawal, renewal)
offers the receipt; the privacy dashboard lists one per ledger row; a receipt verifies
with ``flask consent verify-receipt`` and, independently of joserfc, with the Ed25519
signature checked by ``cryptography`` against the published JWK Set; an altered receipt
fails; a retired key verifies while it is published and not after the retention period;
the username appears only when the person asks; another person's receipt id is a 404
that says nothing.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.consent import facts
from authdemo.extensions import db
from authdemo.models import Base, ConsentEvent
from authdemo.privacy.service import pseudonym_for
from authdemo.secrets_at_rest import KeyedHash
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import (
    MATERIAL_NEXT,
    current_notice,
    notice_fields,
    page,
    publish,
    sign_up_with_passkey,
    user_id,
)
from tests.functional.test_consent_withdrawal import add_password_and_code
from tests.support.authenticator import SoftwareAuthenticator

_OFFER = re.compile(
    r'<section class="receipt-offer"[^>]*data-receipt-id="([A-Za-z0-9_-]+)".*?</section>', re.S
)
_DASHBOARD_FORM = re.compile(r'action="/account/consent/receipts/([A-Za-z0-9_-]+)"')
_CSRF_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{20,}")
OTHER_DATA_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA"


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def offered_receipt(
    browser: Browser, path: str, label: str = "Download your consent receipt"
) -> str:
    """The receipt id the page at ``path`` offers (fails if it offers none); ``label``:
    the download button as the page's language words it."""
    match = _OFFER.search(page(browser, path))
    assert match is not None, f"{path} offers no consent receipt"
    assert label in match.group(0)
    return match.group(1)


def download(browser: Browser, receipt_id: str, **form: str) -> str:
    response = browser.post_form(f"/account/consent/receipts/{receipt_id}", form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/jose"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data(as_text=True)


def claims_of(token: str) -> dict[str, Any]:
    """The payload as any reader sees it (no signature check: that is verify's job)."""
    payload: dict[str, Any] = json.loads(b64decode(token.strip().split(".")[1]))
    return payload


def verify_with_cli(app: Flask, token: str, tmp_path: Path, *args: str) -> Any:
    receipt = tmp_path / "receipt.jws"
    receipt.write_text(token)
    return app.test_cli_runner().invoke(args=["consent", "verify-receipt", str(receipt), *args])


def jwks(browser: Browser) -> dict[str, Any]:
    response = browser.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    keys: dict[str, Any] = response.get_json(force=True)
    return keys


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    """Signed up with a passkey (a grant), signed in."""
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    return browser


# --- each decision offers its receipt ------------------------------------------------------


def test_a_grant_at_sign_up_offers_a_receipt_that_verifies(
    app: Flask, alice: Browser, tmp_path: Path
) -> None:
    token = download(alice, offered_receipt(alice, "/account"))
    result = verify_with_cli(app, token, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: signed by key ")
    shown = json.loads(result.output.split("\n", 1)[1])
    notice = current_notice(app)
    with app.app_context():
        expected_facts = facts.from_settings(app.extensions["authdemo.settings"]).sha256
    assert shown["decision"]["action"] == "granted"
    assert shown["decision"]["renewal"] is False
    assert shown["notice"] == {
        "version": notice.version,
        "language": "en",
        "sha256": notice.sha256,
        "url": f"http://localhost:5000/notices/passkeys/{notice.version}/en",
    }
    assert shown["deployment_facts"] == {"sha256": expected_facts}
    assert shown["purpose"]["id"] == "passkey_signin"
    assert shown["withdraw"]["url"] == "http://localhost:5000/account/passkeys/consent"


def test_the_offer_is_made_once_on_the_page_that_follows(alice: Browser) -> None:
    offered_receipt(alice, "/account")
    assert _OFFER.search(page(alice, "/account")) is None


def test_no_thanks_on_the_account_page_offers_a_receipt_of_the_decline(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "bob")
    page(browser, "/account")  # nothing decided yet: no offer to use up
    response = browser.post_form("/account/passkeys/consent/no-thanks", notice_fields(app))
    assert response.headers["Location"].endswith("/account")
    token = download(browser, offered_receipt(browser, "/account"))
    assert claims_of(token)["decision"]["action"] == "declined"
    assert claims_of(token)["decision"]["how"] == "account:no-thanks-button"


def test_no_thanks_at_sign_up_is_offered_once_the_account_exists(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("carol")
    browser.post_form("/signup/no-passkey", notice_fields(app))
    browser.sign_up_with_password(clock, "carol")
    token = download(browser, offered_receipt(browser, "/account"))
    assert claims_of(token)["decision"]["how"] == "signup:no-thanks-button"


def test_a_withdrawal_offers_a_receipt_of_the_withdrawal(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    add_password_and_code(alice, clock)
    page(alice, "/account")  # the grant's offer, used up
    response = alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    assert response.headers["Location"].endswith("/account/passkeys/consent/withdrawn")
    token = download(alice, offered_receipt(alice, "/account/passkeys/consent/withdrawn"))
    assert claims_of(token)["decision"]["action"] == "withdrawn"


def test_a_renewal_offers_a_receipt_that_says_it_is_one(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    alice.sign_out()
    publish(app, MATERIAL_NEXT)
    assert alice.sign_in_with_passkey(authenticator).status_code == 200
    fields = notice_fields(app, MATERIAL_NEXT)
    response = alice.post_form("/account/passkeys/consent/renew", {**fields, "next": "/account"})
    assert response.status_code == 302
    token = download(alice, offered_receipt(alice, "/account"))
    decision = claims_of(token)["decision"]
    assert (decision["action"], decision["renewal"]) == ("granted", True)
    assert claims_of(token)["notice"]["sha256"] == MATERIAL_NEXT.sha256


def test_the_dashboard_lists_one_receipt_per_ledger_row(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    add_password_and_code(alice, clock)
    alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    listed = re.search(r'<ul id="privacy-consent">.*?</ul>', page(alice, "/privacy"), re.S)
    assert listed is not None
    ids = _DASHBOARD_FORM.findall(listed.group(0))
    assert len(ids) == len(set(ids)) == 2
    actions = [claims_of(download(alice, rid))["decision"]["action"] for rid in ids]
    assert actions == ["withdrawn", "granted"]  # newest first, as the dashboard lists them


def session_cookie(app: Flask, browser: Browser) -> Any:
    """What anyone holding the browser's session cookie reads in it: Flask signs the
    cookie but does not encrypt it (base64 JSON, zlib-compressed when it starts with a
    dot, before the signature)."""
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    payload = cookie.value.lstrip(".").split(".")[0]
    data = b64decode(payload)
    return json.loads(zlib.decompress(data) if cookie.value.startswith(".") else data)


def values_in(value: Any) -> list[str]:
    """Every value in the cookie's JSON, as text (a number as its digits)."""
    if isinstance(value, dict):
        return [item for member in value.values() for item in values_in(member)]
    if isinstance(value, list):
        return [item for member in value for item in values_in(member)]
    return [str(value)]


def newest_ledger_row(app: Flask) -> int:
    with app.app_context():
        newest = db.session.scalar(select(ConsentEvent.id).order_by(ConsentEvent.id.desc()))
    assert newest is not None
    return newest


def test_the_cookie_after_a_decision_holds_no_ledger_row_number(
    app: Flask,
    new_browser: Any,
    clock: FrozenClock,
    authenticator: SoftwareAuthenticator,
) -> None:
    """A row number in the readable cookie would tell anyone how many consent decisions
    the service has recorded, which the receipt id is made not to (decision 0027). Others
    decide first, so the person's rows have numbers no other counter in their cookie
    shares (their passkey is the site's first); the offer still leads to the download."""
    for number in range(3):
        other = new_browser()
        other.sign_up_with_password(clock, f"other{number}")
        other.post_form("/account/passkeys/consent/no-thanks", notice_fields(app))
    alice = new_browser()
    assert sign_up_with_passkey(app, alice, authenticator).status_code == 200
    granted = offered_receipt(alice, "/account")
    row = newest_ledger_row(app)
    assert row > 3
    assert str(row) not in values_in(session_cookie(app, alice))

    add_password_and_code(alice, clock)
    alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    withdrawn = offered_receipt(alice, "/account/passkeys/consent/withdrawn")
    row = newest_ledger_row(app)
    assert str(row) not in values_in(session_cookie(app, alice))

    assert claims_of(download(alice, granted))["decision"]["action"] == "granted"
    assert claims_of(download(alice, withdrawn))["decision"]["action"] == "withdrawn"
    assert _OFFER.search(page(alice, "/account")) is None  # each offered once, still


# --- what a receipt says about the person ----------------------------------------------------


def test_a_receipt_names_nobody_unless_the_person_asks(app: Flask, alice: Browser) -> None:
    receipt_id = offered_receipt(alice, "/account")
    plain = download(alice, receipt_id)
    assert "alice" not in json.dumps(claims_of(plain))
    assert claims_of(plain)["subject"]["username_included"] is False

    asked = claims_of(download(alice, receipt_id, include_username="yes"))
    assert asked["subject"]["username"] == "alice"
    assert asked["subject"]["username_included"] is True


def test_the_subject_is_the_ledgers_keyed_pseudonym(app: Flask, alice: Browser) -> None:
    """The value the ledger row carries after erasure: the operator can link it."""
    subject = claims_of(download(alice, offered_receipt(alice, "/account")))["subject"]
    key = KeyedHash.from_master_keys(
        [b64decode("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")], "pseudonym"
    )
    assert "erased:" + subject["id"] == pseudonym_for(key, user_id(app, "alice"))
    assert subject["id_type"] == "keyed-pseudonym"


def test_a_receipt_is_regenerated_bit_for_bit(alice: Browser) -> None:
    receipt_id = offered_receipt(alice, "/account")
    assert download(alice, receipt_id) == download(alice, receipt_id)


def test_a_receipt_is_not_stored(app: Flask, alice: Browser) -> None:
    """Regenerated from the ledger, never kept: no table holds its signature or id."""
    token = download(alice, offered_receipt(alice, "/account")).strip()
    signature, receipt_id = token.split(".")[2], claims_of(token)["jti"]
    with app.app_context():
        everything = " ".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in db.session.execute(select(table)).all()
        )
    assert "consent_receipt_keys" in Base.metadata.tables  # only the key is recorded
    assert signature not in everything
    assert receipt_id not in everything


def test_another_persons_receipt_id_is_a_404_that_says_nothing(
    app: Flask, alice: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    alices = offered_receipt(alice, "/account")
    bob = new_browser()
    bob.sign_up_with_password(clock, "bob")
    theirs = bob.post_form(f"/account/consent/receipts/{alices}", {})
    made_up = bob.post_form("/account/consent/receipts/AAAAAAAAAAAAAAAAAAAAAA", {})
    assert theirs.status_code == made_up.status_code == 404

    # The same page word for word. Each echoes its own address (to sign in again), and
    # the CSRF token is signed with the wall-clock second it was rendered in.
    def page_without_id(response: Any, receipt_id: str) -> str:
        return _CSRF_TOKEN.sub("TOKEN", response.get_data(as_text=True).replace(receipt_id, "ID"))

    assert page_without_id(theirs, alices) == page_without_id(made_up, "A" * 22)


def test_a_download_with_an_unknown_field_is_refused(alice: Browser) -> None:
    receipt_id = offered_receipt(alice, "/account")
    response = alice.post_form(f"/account/consent/receipts/{receipt_id}", {"username": "bob"})
    assert response.status_code == 400


# --- verifying -----------------------------------------------------------------------------


def test_an_altered_receipt_fails(app: Flask, alice: Browser, tmp_path: Path) -> None:
    token = download(alice, offered_receipt(alice, "/account")).strip()
    header, payload, signature = token.split(".")
    claims = json.loads(b64decode(payload))
    claims["decision"]["action"] = "declined"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    result = verify_with_cli(app, f"{header}.{forged}.{signature}", tmp_path)
    assert result.exit_code == 1
    assert "NOT VALID" in result.output


def test_a_receipt_verifies_with_another_library_against_the_published_keys(
    alice: Browser,
) -> None:
    """What docs/consent-receipts.md tells anyone to do, with ``cryptography`` alone:
    RFC 7515 §5.2, the Ed25519 signature over ``header.payload`` (RFC 8037 §3.1)."""
    token = download(alice, offered_receipt(alice, "/account")).strip()
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64decode(header_b64))
    assert (header["alg"], header["typ"]) == ("EdDSA", "consent-receipt+jwt")
    [jwk] = [k for k in jwks(alice)["keys"] if k["kid"] == header["kid"]]
    public = Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"]))
    public.verify(b64decode(signature_b64), f"{header_b64}.{payload_b64}".encode())
    with pytest.raises(InvalidSignature):
        public.verify(b64decode(signature_b64), f"{header_b64}.{payload_b64}x".encode())


def test_the_cli_verifies_against_a_saved_jwks_file(
    app: Flask, alice: Browser, tmp_path: Path
) -> None:
    token = download(alice, offered_receipt(alice, "/account"))
    saved = tmp_path / "jwks.json"
    saved.write_text(json.dumps(jwks(alice)))
    assert verify_with_cli(app, token, tmp_path, "--jwks", str(saved)).exit_code == 0
    saved.write_text(json.dumps({"keys": []}))
    result = verify_with_cli(app, token, tmp_path, "--jwks", str(saved))
    assert result.exit_code == 1
    assert "not published" in result.output


def test_a_retired_key_verifies_while_published_and_not_after_its_retention(
    app: Flask, alice: Browser, tmp_path: Path, clock: FrozenClock
) -> None:
    token = download(alice, offered_receipt(alice, "/account"))
    old_kid = json.loads(b64decode(token.split(".")[0]))["kid"]
    # The operator rotates DATA_KEY and, later, drops the old one from the configuration.
    same_database = app.extensions["authdemo.settings"].DATABASE_URL
    rotated = make_app(tmp_path, clock, DATA_KEY=OTHER_DATA_KEY, DATABASE_URL=same_database)
    rotated_browser = Browser(rotated.test_client())
    published = [k["kid"] for k in jwks(rotated_browser)["keys"]]
    assert len(published) == 2
    assert published[1] == old_kid
    assert verify_with_cli(rotated, token, tmp_path).exit_code == 0

    retention = rotated.extensions["authdemo.settings"].CONSENT_RETENTION_DAYS
    clock.advance(days=retention - 1)
    assert old_kid in [k["kid"] for k in jwks(rotated_browser)["keys"]]
    clock.advance(days=2)
    assert old_kid not in [k["kid"] for k in jwks(rotated_browser)["keys"]]
    result = verify_with_cli(rotated, token, tmp_path)
    assert result.exit_code == 1
    assert "not published" in result.output


def test_the_jwks_holds_public_keys_only(alice: Browser) -> None:
    [key] = jwks(alice)["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")


# --- the export --------------------------------------------------------------------------


def test_the_export_carries_one_verifiable_receipt_per_decision(
    app: Flask, alice: Browser, tmp_path: Path, clock: FrozenClock
) -> None:
    add_password_and_code(alice, clock)
    alice.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    document = alice.client.get("/api/privacy/export").get_json()
    receipts = document["consent_receipts"]
    assert document["summary"]["consent_receipts"] == len(receipts) == 2
    assert {r["consent_event_id"] for r in receipts} == {
        e["id"] for e in document["consent_events"]
    }
    for receipt in receipts:
        assert verify_with_cli(app, receipt["jws"], tmp_path).exit_code == 0
        assert claims_of(receipt["jws"])["jti"] == receipt["receipt_id"]
        assert "alice" not in json.dumps(claims_of(receipt["jws"]))
