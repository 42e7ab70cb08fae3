"""Export (GDPR Art 15 and 20): every personal column, valid against the shipped schema,
no account secrets, behind step-up, rate-limited, not cached, audited, and only ever the
signed-in person's own data."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select, update

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import (
    AuditEvent,
    Base,
    Complaint,
    ConsentEvent,
    Enrolment,
    Passkey,
    PasswordCredential,
    RecoveryCode,
    TotpCredential,
    User,
    UserSession,
)
from authdemo.privacy import service
from tests.conftest import Browser, make_app
from tests.functional.test_retention_reasons import decline_then_sign_up_with_password
from tests.support.authenticator import SoftwareAuthenticator, b64url

EXPORT_API = "/api/privacy/export"
DOWNLOAD = "/privacy/export"
SYNCED = SoftwareAuthenticator(
    aaguid=bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd"),  # iCloud Keychain
    backup_eligible=True,
    backup_state=True,
)


def schema_validator() -> Draft202012Validator:
    schema = json.loads(resources.files("authdemo").joinpath("data/export.schema.json").read_text())
    checker = FormatChecker()

    # jsonschema checks "date-time" only with an optional package; check it ourselves.
    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    return Draft202012Validator(schema, format_checker=checker)


def give_them_everything(app: Flask, username: str, now: datetime) -> None:
    """A row about ``username`` in every table, every personal column filled in."""
    with app.app_context():
        session = db.session
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        user.display_name = "Ada L."
        user.notices_seen_at = now
        user.language = "en"  # filled in, and the pages stay in the English the tests read
        session.execute(
            update(UserSession).where(UserSession.user_id == user.id).values(device_label="Laptop")
        )
        session.execute(update(Passkey).where(Passkey.user_id == user.id).values(last_used_at=now))
        session.add_all(
            [
                PasswordCredential(
                    user_id=user.id,
                    hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                    created_at=now,
                    changed_at=now,
                ),
                TotpCredential(
                    user_id=user.id,
                    secret_ciphertext=secrets.token_bytes(60),
                    last_used_step=59_000_000,
                    created_at=now,
                ),
                RecoveryCode(user_id=user.id, code_hmac=secrets.token_bytes(32), created_at=now),
                Enrolment(
                    id=secrets.token_urlsafe(16),
                    kind="totp_setup",
                    user_id=user.id,
                    totp_secret_ciphertext=secrets.token_bytes(60),
                    expires_at=now + timedelta(minutes=15),
                ),
                # An abandoned password + code sign-up under the same username.
                Enrolment(
                    id=secrets.token_urlsafe(16),
                    kind="password_signup",
                    username=username,
                    display_name="Ada L.",
                    password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI",
                    totp_secret_ciphertext=secrets.token_bytes(60),
                    expires_at=now + timedelta(minutes=15),
                ),
                ConsentEvent(
                    occurred_at=now,
                    user_ref=user.id,
                    purpose="passkey_signin",
                    action="granted",
                    notice_version="1",
                    notice_language="en",
                    notice_sha256="ab" * 32,
                    facts_sha256="cd" * 32,
                    method="signup:passkey-consent-checkbox",
                ),
                Complaint(
                    received_at=now,
                    category="passkey_sign_in",
                    text="My phone said no passkey was found.",
                    user_id=user.id,
                    method="passkey",
                    cohort="pilot",
                ),
            ]
        )
        session.commit()


@pytest.fixture
def ada(browser: Browser, clock: FrozenClock, app: Flask) -> Browser:
    """Ada signed up with a synced passkey, with a row in every table; step-up is fresh."""
    assert browser.sign_up_with_passkey(SYNCED, "ada").status_code == 200
    # A change made in her session: its audit row names the session (a keyed hash).
    changed = browser.post_form("/account/profile", {"username": "ada", "display_name": "Ada"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    give_them_everything(app, "ada", clock.now())
    return browser


def export_of(browser: Browser) -> dict[str, Any]:
    response = browser.client.get(EXPORT_API)
    assert response.status_code == 200, response.get_data(as_text=True)
    document: dict[str, Any] = response.get_json()
    return document


# --- the marks and the metadata walk ----------------------------------------------------


def test_every_column_says_whether_it_is_personal() -> None:
    unmarked = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if not isinstance(column.info.get("personal"), bool)
    ]
    assert unmarked == [], "mark each column with personal() or not_personal() in its model"


def test_every_withheld_personal_column_states_a_reason() -> None:
    for entry in service.withheld_columns():
        assert len(entry["reason"]) > 20, entry


def test_every_table_has_an_export_section_and_a_rule_for_rows_about_a_person() -> None:
    tables = set(Base.metadata.tables)
    assert tables == set(service.TABLE_SECTIONS) | service.NOT_ABOUT_PEOPLE, (
        "new table: add it to TABLE_SECTIONS (or NOT_ABOUT_PEOPLE, if no column is personal)"
    )
    assert tables == set(service.ROWS_ABOUT), "new table: add it to ROWS_ABOUT"


def test_tables_said_to_hold_nothing_about_people_have_no_personal_column() -> None:
    for name in service.NOT_ABOUT_PEOPLE:
        table = Base.metadata.tables[name]
        assert not [c.name for c in table.columns if c.info["personal"]], name


def test_every_personal_column_is_in_the_export_or_listed_as_not_included(ada: Browser) -> None:
    document = export_of(ada)
    withheld = {(w["table"], w["column"]) for w in document["not_included"]}
    missing = []
    for table in Base.metadata.sorted_tables:
        if table.name in service.NOT_ABOUT_PEOPLE:
            continue
        section = document[service.TABLE_SECTIONS[table.name]]
        records = [section] if isinstance(section, dict) else section
        assert records, f"the test person has no {table.name} row; extend give_them_everything"
        for column in table.columns:
            if not column.info["personal"]:
                continue
            if not column.info["export"]:
                if (table.name, column.name) not in withheld:
                    missing.append(f"{table.name}.{column.name} (not listed in not_included)")
                continue
            values = [record.get(column.name) for record in records]
            if all(name is None for name in values):
                missing.append(f"{table.name}.{column.name}")
    assert missing == []


def test_withheld_columns_carry_the_reason_from_their_mark(ada: Browser) -> None:
    document = export_of(ada)
    reasons = {(w["table"], w["column"]): w["reason"] for w in document["not_included"]}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info["personal"] and not column.info["export"]:
                assert reasons[(table.name, column.name)] == column.info["reason"]


# --- the document -----------------------------------------------------------------------


def test_export_of_a_person_with_everything_is_valid_against_the_schema(ada: Browser) -> None:
    schema_validator().validate(export_of(ada))


def test_export_of_a_new_passkey_person_is_valid_against_the_schema(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator, "newcomer")
    document = export_of(browser)
    schema_validator().validate(document)
    assert document["password"] is None
    assert document["authenticator_app"] is None


def test_export_of_a_password_and_code_person_is_valid_against_the_schema(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "pat")
    document = export_of(browser)
    schema_validator().validate(document)
    assert document["summary"]["password_and_code"] is True
    assert document["summary"]["recovery_codes_left"] == 10
    assert document["passkeys"] == []


def test_the_retention_the_export_states_is_each_receipts(
    app: Flask, clock: FrozenClock, ada: Browser
) -> None:
    """What the export says of how long a choice is kept is what the receipt of that choice
    says (tests/functional/test_receipt_claims.py holds each receipt to the purge): a "No
    thanks" by its own period, a yes by the consent retention (issue 19 review)."""
    pat = Browser(app.test_client())
    decline_then_sign_up_with_password(pat, clock, "pat")
    for person, decision, key in (
        (pat, "declined", "consent_declines"),
        (ada, "granted", "consent_events"),
    ):
        document = export_of(person)
        claims = [
            json.loads(base64.urlsafe_b64decode(r["jws"].split(".")[1] + "=="))
            for r in document["consent_receipts"]
        ]
        [days] = {c["retention"]["days"] for c in claims if c["decision"]["action"] == decision}
        assert document["retention_days"][key] == days, (decision, days)


def test_schema_refuses_a_document_with_an_unknown_field(ada: Browser) -> None:
    document = export_of(ada)
    document["passkeys"][0]["private_key"] = "AAAA"
    assert not schema_validator().is_valid(document)


def test_export_describes_passkeys_with_public_key_aaguid_and_provider(
    ada: Browser, app: Flask
) -> None:
    passkey = export_of(ada)["passkeys"][0]
    with app.app_context():
        stored = db.session.execute(select(Passkey)).scalar_one()
    assert passkey["credential_id"] == b64url(stored.credential_id)
    assert passkey["public_key"] == b64url(stored.public_key)
    assert passkey["aaguid"] == "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
    assert passkey["provider"] == "iCloud Keychain"
    assert passkey["backup_state"] is True


def test_export_holds_the_consent_history_and_audit_events(ada: Browser) -> None:
    document = export_of(ada)
    assert {"action": "granted", "notice_version": "1", "notice_sha256": "ab" * 32} in [
        {k: c[k] for k in ("action", "notice_version", "notice_sha256")}
        for c in document["consent_events"]
    ]
    events = [e["event"] for e in document["audit_events"]]
    # The grant is written with the account, before the first session (decision 0012).
    assert events[:3] == ["account.created", "consent.granted", "sign_in.succeeded"]


def test_export_leaves_out_the_secrets_that_protect_the_account(ada: Browser, app: Flask) -> None:
    text = ada.client.get(EXPORT_API).get_data(as_text=True)
    with app.app_context():
        session = db.session
        user_id = session.execute(select(User.id)).scalar_one()
        secrets_held = [
            session.get(PasswordCredential, user_id).hash,  # type: ignore[union-attr]
            b64url(session.get(TotpCredential, user_id).secret_ciphertext),  # type: ignore[union-attr]
            *(b64url(h) for h in session.scalars(select(RecoveryCode.code_hmac))),
            *(b64url(h) for h in session.scalars(select(UserSession.token_hash))),
            *session.scalars(
                select(Enrolment.password_hash).where(Enrolment.password_hash.is_not(None))
            ),
            *(
                b64url(c)
                for c in session.scalars(select(Enrolment.totp_secret_ciphertext))
                if c is not None
            ),
        ]
    for secret in secrets_held:
        assert secret not in text
    withheld = {(w["table"], w["column"]) for w in json.loads(text)["not_included"]}
    assert {
        ("password_credentials", "hash"),
        ("totp_credentials", "secret_ciphertext"),
        ("recovery_codes", "code_hmac"),
        ("user_sessions", "token_hash"),
    } <= withheld


def test_export_marks_the_session_that_asked_for_it(ada: Browser) -> None:
    sessions = export_of(ada)["sessions"]
    assert [s["current"] for s in sessions] == [True]


# --- who may export, and how ------------------------------------------------------------


def test_export_contains_only_the_signed_in_persons_data(
    ada: Browser, new_browser: Any, app: Flask
) -> None:
    bob = new_browser()
    bob_key = SoftwareAuthenticator()
    bob.sign_up_with_passkey(bob_key, "bob")
    with app.app_context():
        ada_id = db.session.execute(select(User.id).where(User.username == "ada")).scalar_one()
    # Asking for Ada's account by id changes nothing: there is no such parameter.
    response = bob.client.get(f"{EXPORT_API}?user_id={ada_id}&username=ada")
    text = response.get_data(as_text=True)
    document = response.get_json()
    assert document["account"]["username"] == "bob"
    assert ada_id not in text
    assert '"ada"' not in text
    assert [p["credential_id"] for p in document["passkeys"]] == [
        b64url(bob_key.credentials[0].credential_id)
    ]
    with app.app_context():
        bob_id = document["account"]["id"]
        bobs_events = db.session.scalars(
            select(AuditEvent.id).where(
                AuditEvent.user_ref == bob_id, AuditEvent.event != "privacy.exported"
            )
        ).all()
        bobs_consents = db.session.scalars(
            select(ConsentEvent.id).where(ConsentEvent.user_ref == bob_id)
        ).all()
    assert [e["id"] for e in document["audit_events"]] == list(bobs_events)
    assert [c["id"] for c in document["consent_events"]] == list(bobs_consents)


def test_export_needs_sign_in(browser: Browser) -> None:
    assert browser.client.get(EXPORT_API).status_code == 401
    assert browser.client.get(DOWNLOAD).headers["Location"].startswith("/signin")


def test_export_api_without_recent_step_up_answers_401_with_the_step_up_url(
    ada: Browser, clock: FrozenClock
) -> None:
    clock.advance(minutes=6)
    response = ada.client.get(EXPORT_API)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["stepUpUrl"].startswith("/reauth?next=")


def test_export_download_without_recent_step_up_sends_the_person_to_confirm_first(
    ada: Browser, clock: FrozenClock
) -> None:
    clock.advance(minutes=6)
    response = ada.client.get(DOWNLOAD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/reauth?next=/privacy/export&action=privacy.download"


def test_export_download_is_an_attachment_that_is_never_stored(ada: Browser) -> None:
    response = ada.client.get(DOWNLOAD)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    assert ada.client.get(EXPORT_API).headers["Cache-Control"] == "no-store"


def test_export_is_audited(ada: Browser, app: Flask) -> None:
    ada.client.get(DOWNLOAD)
    ada.client.get(EXPORT_API)
    with app.app_context():
        vias = db.session.scalars(
            select(AuditEvent.details).where(AuditEvent.event == "privacy.exported")
        ).all()
    assert vias == [{"via": "download"}, {"via": "api"}]


def test_export_is_rate_limited_per_account(tmp_path: Any, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock, RATELIMIT_EXPORT="2 per hour")
    browser = Browser(app.test_client())
    browser.sign_up_with_passkey(SoftwareAuthenticator(), "ada")
    assert browser.client.get(EXPORT_API).status_code == 200
    assert browser.client.get(DOWNLOAD).status_code == 200
    refused = browser.client.get(EXPORT_API)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    # Another person's budget is their own.
    other = Browser(app.test_client())
    other.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    assert other.client.get(EXPORT_API).status_code == 200


def test_export_refused_for_step_up_does_not_use_up_the_rate_limit(
    tmp_path: Any, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, RATELIMIT_EXPORT="1 per hour")
    browser = Browser(app.test_client())
    authenticator = SoftwareAuthenticator()
    browser.sign_up_with_passkey(authenticator, "ada")
    clock.advance(minutes=6)
    assert browser.client.get(EXPORT_API).status_code == 401
    options = browser.post_json("/api/reauth/options").get_json()
    assert browser.post_json("/api/reauth/verify", authenticator.get(options)).status_code == 200
    assert browser.client.get(EXPORT_API).status_code == 200


# --- the dashboard ----------------------------------------------------------------------


def test_dashboard_shows_what_is_held_in_plain_words(ada: Browser) -> None:
    page = ada.client.get("/privacy").get_data(as_text=True)
    assert 'id="privacy-username">ada<' in page
    assert "iCloud Keychain" in page
    assert "Synced across your devices" in page
    assert "You created your account with a passkey" in page
    assert 'You agreed (<a href="/notices/passkeys/1/en">notice version 1</a>' in page
    assert "Laptop" in page
    assert "password" in page


def test_dashboard_shows_nothing_of_another_account(ada: Browser, new_browser: Any) -> None:
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    page = bob.client.get("/privacy").get_data(as_text=True)
    assert "ada" not in page
    assert "iCloud Keychain" not in page


def test_dashboard_needs_sign_in(browser: Browser) -> None:
    assert browser.client.get("/privacy").headers["Location"].startswith("/signin")
