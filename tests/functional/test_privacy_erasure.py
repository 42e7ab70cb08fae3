"""Erasure (GDPR Art 17, CCPA 1798.105) from the privacy dashboard: one transaction,
pseudonymised audit and consent events, every session dead, limiter keys dropped, the
browser told to forget its passkeys, nothing left in the database files; and every forged,
replayed or stale request refused with nothing deleted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update

from authdemo import current
from authdemo.clock import FrozenClock
from authdemo.extensions import Database, db, limiter
from authdemo.models import AuditEvent, ConsentEvent, Passkey, User, UserSession
from authdemo.privacy import service
from tests.conftest import Browser, PasswordAccount
from tests.functional.test_consent_support import notice_fields
from tests.support.authenticator import SoftwareAuthenticator, b64url

_CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')
_PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.S)


def confirmation_token(browser: Browser) -> str:
    page = browser.client.get("/privacy/delete")
    assert page.status_code == 200, page.headers.get("Location")
    match = _CONFIRMATION.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def delete_account(browser: Browser, typed: str, token: str | None = None, **form: str) -> Any:
    fields = {
        "confirmation": confirmation_token(browser) if token is None else token,
        "confirm_username": typed,
        "next": "/privacy/delete",
        **form,
    }
    return browser.post_form("/privacy/delete", fields)


def rows_about(app: Flask, person: service.Person) -> dict[str, int]:
    with app.app_context():
        return {t: service.count_about(db.session, person, t) for t in service.ROWS_ABOUT}


def person_named(app: Flask, username: str) -> service.Person:
    with app.app_context():
        person = service.find_person(db.session, username=username)
    assert person is not None
    return person


@pytest.fixture
def ada(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    return browser


# --- what erasure does ------------------------------------------------------------------


def test_erasure_deletes_every_row_about_the_person(ada: Browser, app: Flask) -> None:
    person = person_named(app, "ada")
    assert delete_account(ada, "ada").status_code == 200
    left = rows_about(app, person)
    assert left == dict.fromkeys(service.ROWS_ABOUT, 0)


def test_erasure_keeps_audit_and_consent_events_under_a_keyed_pseudonym(
    ada: Browser, app: Flask
) -> None:
    person = person_named(app, "ada")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        expected = service.pseudonym_for(current.keyed_hash("pseudonym"), person.id)
    delete_account(ada, "ada")
    with app.app_context():
        audit_refs = set(db.session.scalars(select(AuditEvent.user_ref)))
        consent_refs = set(db.session.scalars(select(ConsentEvent.user_ref)))
        after = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert audit_refs == {expected}
    assert consent_refs <= {expected}
    assert expected.startswith("erased:")
    assert person.id not in expected
    assert after == before + 1  # the erasure itself


def test_erasure_is_audited_under_the_pseudonym_without_name_or_handle(
    ada: Browser, app: Flask
) -> None:
    person = person_named(app, "ada")
    delete_account(ada, "ada")
    with app.app_context():
        row = db.session.execute(
            select(AuditEvent.user_ref, AuditEvent.details).where(
                AuditEvent.event == "account.deleted"
            )
        ).one()
    assert row.user_ref.startswith("erased:")
    assert row.details == {"via": "self-service"}
    text = json.dumps([row.user_ref, row.details])
    assert "ada" not in text
    assert b64url(person.user_handle) not in text


def test_erasure_leaves_other_accounts_untouched(
    ada: Browser, app: Flask, new_browser: Any
) -> None:
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    bob_person = person_named(app, "bob")
    before = rows_about(app, bob_person)
    delete_account(ada, "ada")
    assert rows_about(app, bob_person) == before
    assert bob.client.get("/privacy").status_code == 200


def test_erasure_ends_every_session_of_the_person_at_once(
    ada: Browser, app: Flask, new_browser: Any, authenticator: SoftwareAuthenticator
) -> None:
    laptop = new_browser()
    assert laptop.sign_in_with_passkey(authenticator).status_code == 200
    assert laptop.client.get("/account").status_code == 200
    delete_account(ada, "ada")
    assert laptop.client.get("/account").headers["Location"].startswith("/signin")
    assert ada.client.get("/account").headers["Location"].startswith("/signin")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_passkey_sign_in_after_erasure_is_refused(
    ada: Browser, new_browser: Any, authenticator: SoftwareAuthenticator
) -> None:
    delete_account(ada, "ada")
    response = new_browser().sign_in_with_passkey(authenticator)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_goodbye_page_asks_the_browser_to_forget_the_accounts_passkeys(
    ada: Browser, app: Flask
) -> None:
    person = person_named(app, "ada")
    response = delete_account(ada, "ada")
    page = response.get_data(as_text=True)
    match = _PAGE_DATA.search(page)
    assert match
    signals = json.loads(match.group(1))["signals"]
    assert signals == [
        {
            "method": "signalAllAcceptedCredentials",
            "options": {
                "rpId": "localhost",
                "userId": b64url(person.user_handle),
                "allAcceptedCredentialIds": [],
            },
        }
    ]
    assert "privacy-goodbye.js" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_erasure_drops_the_accounts_rate_limit_counters(
    browser: Browser, new_browser: Any, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock, "carol")
    attacker = new_browser()
    wrong = PasswordAccount("carol", "not the password at all", account.totp_key, [])
    statuses = [attacker.sign_in_with_password(wrong, clock).status_code for _ in range(6)]
    assert statuses[-1] == 429  # carol's account key is throttled
    assert delete_account(browser, "carol").status_code == 200
    # Someone new takes the free username at once: no throttle is left keyed to it.
    newcomer = new_browser()
    fresh = newcomer.sign_up_with_password(clock, "carol")
    newcomer.sign_out()
    clock.advance(seconds=30)
    assert newcomer.sign_in_with_password(fresh, clock).status_code == 302


@pytest.mark.sqlite_only
def test_raw_database_files_hold_nothing_of_the_person_after_erasure(
    tmp_path: Path, app: Flask, new_browser: Any
) -> None:
    quentin = new_browser()
    key = SoftwareAuthenticator()
    assert quentin.sign_up_with_passkey(key, "quentin-erasable").status_code == 200
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.username == "quentin-erasable")
            .values(display_name="Quentin Q. Erasable")
        )
        db.session.commit()
    control = new_browser()
    control.sign_up_with_passkey(SoftwareAuthenticator(), "zed-control-person")
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.username == "quentin-erasable")
        ).scalar_one()
        passkey = db.session.execute(select(Passkey).where(Passkey.user_id == user.id)).scalar_one()
        traces = {
            "username": b"quentin-erasable",
            "display name": b"Quentin Q. Erasable",
            "user handle": user.user_handle,
            "user handle (base64url)": b64url(user.user_handle).encode(),
            "account id": user.id.encode(),
            "credential id": passkey.credential_id,
            "credential id (base64url)": b64url(passkey.credential_id).encode(),
            "public key": passkey.public_key,
        }
    before = raw_database_files(tmp_path)
    unseen = [
        name for name, trace in traces.items() if "base64url" not in name and trace not in before
    ]
    assert unseen == [], "the search must see the data as stored"

    assert delete_account(quentin, "quentin-erasable").status_code == 200

    after = raw_database_files(tmp_path)
    found = [name for name, trace in traces.items() if trace in after]
    assert found == []
    assert b"zed-control-person" in after


def raw_database_files(folder: Path) -> bytes:
    """Every byte of the SQLite database and its write-ahead log, as a disk would give."""
    files = [folder / "test.sqlite3", folder / "test.sqlite3-wal"]
    return b"".join(f.read_bytes() for f in files if f.exists())


@pytest.mark.sqlite_only
def test_raw_database_files_hold_no_passkey_of_the_person_after_consent_withdrawal(
    tmp_path: Path, app: Flask, new_browser: Any
) -> None:
    rosa = new_browser()
    assert rosa.sign_up_with_passkey(SoftwareAuthenticator(), "rosa-withdraws").status_code == 200
    control = new_browser()
    control.sign_up_with_passkey(SoftwareAuthenticator(), "zed-control-person")
    with app.app_context():
        owners = dict(db.session.execute(select(User.username, User.id)).all())
        passkeys = {p.user_id: p for p in db.session.execute(select(Passkey)).scalars()}
        mine, theirs = passkeys[owners["rosa-withdraws"]], passkeys[owners["zed-control-person"]]
        traces = {
            "credential id": mine.credential_id,
            "credential id (base64url)": b64url(mine.credential_id).encode(),
            "public key": mine.public_key,
        }
    before = raw_database_files(tmp_path)
    assert mine.credential_id in before, "the search must see the data as stored"

    withdrawn = rosa.post_form("/account/passkeys/consent/withdraw", notice_fields(app))
    assert withdrawn.status_code == 302

    after = raw_database_files(tmp_path)
    assert [name for name, trace in traces.items() if trace in after] == []
    assert theirs.credential_id in after


# --- failure and refusal: nothing is deleted --------------------------------------------


def test_a_fault_in_the_middle_of_erasure_leaves_the_account_intact(
    ada: Browser, app: Flask
) -> None:
    person = person_named(app, "ada")
    before = rows_about(app, person)
    engine = Database.engine_for(app)

    def fail_on_passkeys(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Audit and consent events are already pseudonymised and sessions deleted by now.
        if statement.startswith("DELETE FROM passkeys"):
            raise OSError("disk unplugged")

    token = confirmation_token(ada)
    event.listen(engine, "before_cursor_execute", fail_on_passkeys)
    try:
        response = delete_account(ada, "ada", token=token)
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_passkeys)
    assert response.status_code == 500
    assert rows_about(app, person) == before
    with app.app_context():
        refs = set(db.session.scalars(select(AuditEvent.user_ref)))
    assert refs == {person.id}
    assert ada.client.get("/privacy").status_code == 200  # still signed in


def test_delete_without_csrf_token_is_refused(ada: Browser, app: Flask) -> None:
    person = person_named(app, "ada")
    token = confirmation_token(ada)
    response = ada.client.post(
        "/privacy/delete", data={"confirmation": token, "confirm_username": "ada"}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert rows_about(app, person)["users"] == 1


def test_delete_without_recent_step_up_deletes_nothing_and_asks_to_confirm(
    ada: Browser, app: Flask, clock: FrozenClock
) -> None:
    person = person_named(app, "ada")
    token = confirmation_token(ada)
    clock.advance(minutes=6)
    response = delete_account(ada, "ada", token=token)
    assert response.status_code == 302
    assert (
        response.headers["Location"] == "/reauth?next=/privacy/delete&action=privacy.delete_account"
    )
    assert rows_about(app, person)["users"] == 1


def test_delete_from_a_program_without_recent_step_up_gets_a_401_problem(
    ada: Browser, app: Flask, clock: FrozenClock
) -> None:
    token = confirmation_token(ada)
    clock.advance(minutes=6)
    response = ada.post_form(
        "/privacy/delete",
        {"confirmation": token, "confirm_username": "ada", "next": "/privacy/delete"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 401
    assert (
        response.get_json()["stepUpUrl"]
        == "/reauth?next=/privacy/delete&action=privacy.delete_account"
    )
    assert rows_about(app, person_named(app, "ada"))["users"] == 1


def test_delete_page_needs_a_recent_step_up(ada: Browser, clock: FrozenClock) -> None:
    clock.advance(minutes=6)
    response = ada.client.get("/privacy/delete")
    assert (
        response.headers["Location"] == "/reauth?next=/privacy/delete&action=privacy.delete_confirm"
    )


def test_delete_with_a_confirmation_from_an_earlier_step_up_is_refused(
    ada: Browser, app: Flask, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    old_token = confirmation_token(ada)
    clock.advance(seconds=30)
    options = ada.post_json("/api/reauth/options").get_json()
    assert ada.post_json("/api/reauth/verify", authenticator.get(options)).status_code == 200
    response = delete_account(ada, "ada", token=old_token)
    assert response.status_code == 409
    assert "Nothing was deleted" in response.get_data(as_text=True)
    assert rows_about(app, person_named(app, "ada"))["users"] == 1


def test_delete_with_another_accounts_confirmation_is_refused(
    ada: Browser, app: Flask, new_browser: Any
) -> None:
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    bobs_token = confirmation_token(bob)
    response = delete_account(ada, "ada", token=bobs_token)
    assert response.status_code == 409
    assert rows_about(app, person_named(app, "ada"))["users"] == 1


def test_delete_with_a_tampered_confirmation_is_refused(ada: Browser, app: Flask) -> None:
    token = confirmation_token(ada)
    issued, _, mac = token.partition(".")
    tampered = f"{int(issued) + 60}.{mac}"
    assert delete_account(ada, "ada", token=tampered).status_code == 409
    assert delete_account(ada, "ada", token="").status_code == 409
    assert rows_about(app, person_named(app, "ada"))["users"] == 1


def test_typing_another_username_deletes_nothing(
    ada: Browser, app: Flask, new_browser: Any
) -> None:
    bob = new_browser()
    bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob")
    response = delete_account(ada, "bob")
    assert response.status_code == 422
    assert "That is not your username" in response.get_data(as_text=True)
    assert rows_about(app, person_named(app, "ada"))["users"] == 1
    assert rows_about(app, person_named(app, "bob"))["users"] == 1


def test_typed_username_is_compared_as_usernames_are(ada: Browser, app: Flask) -> None:
    assert delete_account(ada, "  ADA ").status_code == 200
    with app.app_context():
        assert service.find_person(db.session, username="ada") is None


def test_a_signed_out_delete_request_deletes_nothing(
    ada: Browser, app: Flask, new_browser: Any
) -> None:
    token = confirmation_token(ada)
    stranger = new_browser()
    response = stranger.post_form(
        "/privacy/delete", {"confirmation": token, "confirm_username": "ada"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin")
    assert rows_about(app, person_named(app, "ada"))["users"] == 1


def test_erasure_with_the_rate_limit_store_down_still_says_goodbye(
    ada: Browser, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account is gone once the transaction commits: a limiter store that fails
    afterwards (Redis down) is logged for the purge to finish, never a 500 that would
    tell the person their erasure failed."""
    from limits.errors import StorageError

    from authdemo.extensions import limiter

    person = person_named(app, "ada")
    token = confirmation_token(ada)

    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise StorageError(ConnectionError("limiter store unreachable"))

    monkeypatch.setattr(limiter.limiter, "clear", unreachable)
    response = delete_account(ada, "ada", token=token)
    assert response.status_code == 200
    assert "privacy-goodbye.js" in response.get_data(as_text=True)
    assert rows_about(app, person) == dict.fromkeys(service.ROWS_ABOUT, 0)


def test_the_profile_limit_keeps_no_account_id_and_goes_with_the_account(
    ada: Browser, app: Flask
) -> None:
    # Profile changes are counted per account id (a rename must not restart the count):
    # by a keyed hash of it, like every limiter key, and dropped at erasure like the rest.
    person = person_named(app, "ada")
    saved = ada.post_form("/account/profile", {"username": "ada", "display_name": "Ada L."})
    assert saved.status_code == 302
    counted = _limiter_dump(app)
    assert "acct-id:" in counted
    assert person.id not in counted
    assert delete_account(ada, "ada").status_code == 200
    assert "acct-id:" not in _limiter_dump(app)


def _limiter_dump(app: Flask) -> str:
    """Every key the limiter holds: scanned from Redis (the CI stage on PostgreSQL and
    Redis), or the in-process store's contents."""
    with app.app_context():
        storage = limiter.storage
    client = getattr(storage, "storage", None)
    if hasattr(client, "scan_iter"):
        return " ".join(key.decode() for key in client.scan_iter(count=1000))
    return repr(vars(storage))
