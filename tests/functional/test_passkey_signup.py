"""Passkey sign-up through the real endpoints (issue 3 item 5).

The account is created only when its first passkey verifies; the registration options ask
for a discoverable credential with user verification and no attestation; the user handle
is random; a username taken in the meantime is a clear 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from authdemo.extensions import db
from authdemo.models import AuditEvent, Passkey, User
from authdemo.models.user import USER_HANDLE_BYTES
from tests.conftest import Browser
from tests.functional.passkey_support import (
    ADD_OPTIONS,
    ADD_VERIFY,
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
    Watch,
    assert_problem,
    assert_refused,
    cookie_session,
    is_signed_in,
    registration_options,
    sign_up,
)
from tests.support.authenticator import (
    EDDSA,
    ES256,
    RS256,
    ExcludedCredentialError,
    SoftwareAuthenticator,
    b64url,
    b64url_decode,
)


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def user_named(app: Flask, username: str) -> User:
    with app.app_context():
        return db.session.execute(select(User).where(User.username == username)).scalar_one()


# --- the options --------------------------------------------------------------------------


def test_registration_options_require_a_discoverable_credential_and_user_verification(
    browser: Browser,
) -> None:
    options = registration_options(browser)
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required"
    assert selection["requireResidentKey"] is True
    assert selection["userVerification"] == "required"


def test_registration_options_ask_for_no_attestation(browser: Browser) -> None:
    assert registration_options(browser)["attestation"] == "none"


def test_registration_options_offer_exactly_es256_eddsa_and_rs256(browser: Browser) -> None:
    params = registration_options(browser)["pubKeyCredParams"]
    assert params == [
        {"type": "public-key", "alg": -7},
        {"type": "public-key", "alg": -8},
        {"type": "public-key", "alg": -257},
    ]


def test_registration_options_name_the_site_and_the_chosen_username(browser: Browser) -> None:
    assert browser.choose_username("Alice", display_name="Alice Liddell").status_code == 302
    options = browser.post_json(SIGN_UP_OPTIONS, browser.consent()).get_json()
    assert options["rp"] == {"id": "localhost", "name": "authdemo"}
    assert options["user"]["name"] == "alice"
    assert options["user"]["displayName"] == "Alice Liddell"
    assert options["excludeCredentials"] == []
    assert len(b64url_decode(options["challenge"])) == 32


def test_user_handle_is_64_random_bytes_unrelated_to_the_username(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    # WebAuthn L3 §14.6.1: no personal information in the user handle.
    first = b64url_decode(registration_options(browser, "alice")["user"]["id"])
    second = b64url_decode(registration_options(new_browser(), "alice")["user"]["id"])
    assert len(first) == len(second) == USER_HANDLE_BYTES == 64
    assert first != second, "the same username must not give the same handle"
    assert b"alice" not in first
    assert len(set(first)) > 16  # not a constant or a padded name


def test_stored_user_handle_is_the_one_offered(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser, "alice")
    assert browser.post_json(SIGN_UP_VERIFY, authenticator.create(options)).status_code == 200
    user = user_named(app, "alice")
    assert user.user_handle == b64url_decode(options["user"]["id"])
    assert user.id.encode() not in user.user_handle


# --- consent and order --------------------------------------------------------------------


@pytest.mark.parametrize("tick", [False, "true", 1, None, "missing"])
def test_options_without_the_ticked_opt_in_are_refused(
    app: Flask, browser: Browser, tick: object
) -> None:
    # GDPR Art 4(11) / Art 7: only an explicit tick (JSON true) is consent.
    assert browser.choose_username("alice").status_code == 302
    body = {**browser.consent(), "consent": tick}
    if tick == "missing":
        del body["consent"]
    response = browser.post_json(SIGN_UP_OPTIONS, body)
    assert assert_problem(response, 400)["type"].endswith("/consent-required")
    assert "ceremony" not in cookie_session(app, browser), "a ceremony was started"


def test_options_without_a_chosen_username_are_refused(app: Flask, browser: Browser) -> None:
    response = browser.post_json(SIGN_UP_OPTIONS, browser.consent())
    assert assert_problem(response, 400)["field"] == "username"
    assert "ceremony" not in cookie_session(app, browser), "a ceremony was started"


# --- the account is created only once the passkey verifies --------------------------------


def test_user_row_is_created_only_after_the_passkey_verifies(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser, "alice")
    assert count(app, User) == 0
    response = browser.post_json(SIGN_UP_VERIFY, authenticator.create(options))
    assert response.status_code == 200, response.get_json()
    assert count(app, User) == 1
    assert count(app, Passkey) == 1


def test_refused_passkey_creates_no_account(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = registration_options(browser, "alice")
    response = browser.post_json(SIGN_UP_VERIFY, authenticator.create(options, user_present=False))
    assert_refused(response)
    assert count(app, User) == 0
    assert count(app, Passkey) == 0


def test_registration_without_user_verification_is_refused_by_the_server(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
) -> None:
    # A real browser refuses this before the server sees it (userVerification is
    # "required"); the server must not rely on that (require_user_verification=True).
    watch = Watch(app, monkeypatch)
    credential = authenticator.create(registration_options(browser), user_verified=False)
    with watch.attempt() as attempt:
        response = browser.post_json(SIGN_UP_VERIFY, credential)
    assert_refused(response)
    assert "verif" in attempt.verifier_error.lower()
    assert not is_signed_in(browser)
    assert count(app, User) == 0


@pytest.mark.parametrize("algorithm", [ES256, EDDSA, RS256], ids=["ES256", "EdDSA", "RS256"])
def test_sign_up_and_sign_in_work_with_each_offered_algorithm(
    app: Flask, browser: Browser, algorithm: int
) -> None:
    authenticator = SoftwareAuthenticator(algorithm=algorithm)
    sign_up(app, browser, authenticator, "alice")
    with app.app_context():
        stored = db.session.execute(select(Passkey.algorithm)).scalar_one()
    assert stored == algorithm
    response = browser.sign_in_with_passkey(authenticator)
    assert response.status_code == 200, response.get_json()
    assert is_signed_in(browser)


def test_sign_up_stores_the_public_key_and_only_the_listed_facts(
    app: Flask, browser: Browser
) -> None:
    aaguid = bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd")  # iCloud Keychain
    authenticator = SoftwareAuthenticator(
        aaguid=aaguid, backup_eligible=True, backup_state=True, transports=["internal", "hybrid"]
    )
    account = sign_up(app, browser, authenticator, "alice")
    with app.app_context():
        passkey = db.session.execute(select(Passkey)).scalar_one()
        assert passkey.user_id == account.user_id
        assert passkey.credential_id == account.credential.credential_id
        assert passkey.public_key == account.credential.public_key
        assert passkey.sign_count == 0
        assert passkey.transports == ["hybrid", "internal"]
        assert passkey.aaguid == "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
        assert passkey.backup_eligible is True
        assert passkey.backup_state is True
        assert passkey.last_used_at is None
        assert passkey.name  # a provider name or "Passkey", never the device's owner


def test_unknown_transport_hints_are_dropped(app: Flask, browser: Browser) -> None:
    authenticator = SoftwareAuthenticator(transports=["internal", "telepathy"])
    sign_up(app, browser, authenticator, "alice")
    with app.app_context():
        assert db.session.execute(select(Passkey.transports)).scalar_one() == ["internal"]


def test_sign_up_signs_the_person_in_and_audits_it(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    response = browser.sign_up_with_passkey(authenticator, "alice")
    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/account"
    assert is_signed_in(browser)
    assert "sid" in cookie_session(app, browser)
    assert "signup" not in cookie_session(app, browser)
    user_id = user_named(app, "alice").id
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.event, AuditEvent.user_ref).order_by(AuditEvent.id)
        ).all()
    ours = [tuple(e) for e in events if e.event in {"account.created", "sign_in.succeeded"}]
    assert ours == [("account.created", user_id), ("sign_in.succeeded", user_id)]
    assert {e.user_ref for e in events} == {user_id}  # pseudonymous: the opaque id only


# --- a username taken in the meantime -----------------------------------------------------


def test_username_taken_meanwhile_gets_a_409_not_a_500(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    # Two people choose "alice" at the same time; the first to finish gets it.
    first, second = browser, new_browser()
    first_options = registration_options(first, "alice")
    second_options = registration_options(second, "alice")
    first_key, second_key = SoftwareAuthenticator(), SoftwareAuthenticator()
    assert first.post_json(SIGN_UP_VERIFY, first_key.create(first_options)).status_code == 200
    response = second.post_json(SIGN_UP_VERIFY, second_key.create(second_options))
    problem = assert_problem(response, 409)
    assert problem["type"].endswith("/username-taken")
    assert count(app, User) == 1
    assert count(app, Passkey) == 1
    assert not is_signed_in(second)
    # The first person's passkey is the one stored.
    with app.app_context():
        stored = db.session.execute(select(Passkey.credential_id)).scalar_one()
    assert stored == first_key.credentials[0].credential_id


def test_an_old_copy_of_the_sign_up_cookie_cannot_make_a_second_account_with_its_id(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    """A sign-up creates its account under the id minted when the username was chosen
    (decision 0022). A copy of the cookie from that moment, sent again after the account
    was renamed (which frees the username), is told the sign-up was finished: a 409 that
    says so, never a second account, nor a 500 on the id."""
    assert browser.choose_username("alice").status_code == 302
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    copied = browser.client.get_cookie(cookie_name)
    assert copied is not None
    options = browser.post_json(SIGN_UP_OPTIONS, browser.consent()).get_json()
    assert (
        browser.post_json(SIGN_UP_VERIFY, SoftwareAuthenticator().create(options)).status_code
        == 200
    )
    renamed = browser.post_form("/account/profile", {"username": "alicia", "display_name": ""})
    assert renamed.status_code == 302
    again = new_browser()
    again.client.set_cookie(cookie_name, copied.value)
    options = again.post_json(SIGN_UP_OPTIONS, again.consent()).get_json()
    response = again.post_json(SIGN_UP_VERIFY, SoftwareAuthenticator().create(options))
    assert assert_problem(response, 409)["type"].endswith("/sign-up-already-finished")
    assert count(app, User) == 1
    assert not is_signed_in(again)


def test_options_for_a_username_taken_since_it_was_chosen_get_a_409(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    late = new_browser()
    assert late.choose_username("alice").status_code == 302
    sign_up(app, browser, SoftwareAuthenticator(), "alice")
    response = late.post_json(SIGN_UP_OPTIONS, late.consent())
    assert assert_problem(response, 409)["type"].endswith("/username-taken")


def test_choosing_a_taken_username_is_refused_on_the_form(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    sign_up(app, browser, SoftwareAuthenticator(), "alice")
    response = new_browser().choose_username("ALICE")
    assert response.status_code == 409
    assert "taken" in response.get_data(as_text=True)


# --- adding another passkey ---------------------------------------------------------------


def add_options(browser: Browser) -> dict[str, Any]:
    response = browser.post_json(ADD_OPTIONS, browser.consent())
    assert response.status_code == 200, response.get_json()
    options: dict[str, Any] = response.get_json()
    return options


def test_add_passkey_options_exclude_the_accounts_existing_passkeys(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    account = sign_up(app, browser, authenticator, "alice")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    options = add_options(browser)
    assert options["excludeCredentials"] == [
        {
            "type": "public-key",
            "id": b64url(account.credential.credential_id),
            "transports": ["internal"],
        }
    ]
    assert b64url_decode(options["user"]["id"]) == account.user_handle
    # The authenticator that already holds one refuses to make another (InvalidStateError).
    with pytest.raises(ExcludedCredentialError):
        authenticator.create(options)


def test_add_passkey_from_a_second_device_is_stored_and_then_excluded(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    account = sign_up(app, browser, authenticator, "alice")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    second_device = SoftwareAuthenticator(algorithm=EDDSA)
    response = browser.post_json(ADD_VERIFY, second_device.create(add_options(browser)))
    assert response.status_code == 200, response.get_json()
    excluded = {d["id"] for d in add_options(browser)["excludeCredentials"]}
    assert excluded == {
        b64url(account.credential.credential_id),
        b64url(second_device.credentials[0].credential_id),
    }
    browser.sign_out()
    assert browser.sign_in_with_passkey(second_device).status_code == 200


def test_add_passkey_needs_a_signed_in_person(browser: Browser) -> None:
    response = browser.post_json(ADD_OPTIONS, browser.consent())
    assert assert_problem(response, 401)["type"].endswith("/not-signed-in")


def test_add_passkey_options_do_not_list_other_accounts_passkeys(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    sign_up(app, new_browser(), SoftwareAuthenticator(), "bob")
    alice_key = SoftwareAuthenticator()
    alice = sign_up(app, browser, alice_key, "alice")
    assert browser.sign_in_with_passkey(alice_key).status_code == 200
    excluded = [d["id"] for d in add_options(browser)["excludeCredentials"]]
    assert excluded == [b64url(alice.credential.credential_id)]
