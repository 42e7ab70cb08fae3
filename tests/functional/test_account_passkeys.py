"""The passkey management page: what each passkey shows, rename, add another, remove
(step-up; never the last way in), and the Signal API data the page gets after a removal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent, Passkey, User
from tests.conftest import Browser
from tests.functional.account_pages import has_id, page_data, text_of
from tests.support.authenticator import (
    ExcludedCredentialError,
    SoftwareAuthenticator,
    b64url,
)

ICLOUD_KEYCHAIN = uuid.UUID("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").bytes
STEP_UP_WINDOW = 5 * 60


def rows(app: Flask, statement: Any) -> list[Any]:
    with app.app_context():
        return list(db.session.execute(statement).all())


def passkeys_of(app: Flask, username: str) -> list[Passkey]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Passkey)
                .join(User, User.id == Passkey.user_id)
                .where(User.username == username)
                .order_by(Passkey.id)
            )
        )


def audit_events(app: Flask, event: str) -> list[dict[str, Any]]:
    return [
        details
        for (details,) in rows(app, select(AuditEvent.details).where(AuditEvent.event == event))
    ]


def add_passkey(browser: Browser, authenticator: SoftwareAuthenticator) -> None:
    """Add another passkey from the signed-in browser, as the page's script does."""
    options = browser.post_json("/api/passkeys/add/options", consent_body(browser))
    assert options.status_code == 200, options.get_json()
    verified = browser.post_json(
        "/api/passkeys/add/verify", authenticator.create(options.get_json())
    )
    assert verified.status_code == 200, verified.get_json()


def consent_body(browser: Browser) -> dict[str, Any]:
    """The opt-in the page sends: the ticked box and the notice it showed."""
    body: dict[str, Any] = browser.consent()
    return body


@pytest.fixture
def alice(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    return browser


# --- what the page shows --------------------------------------------------------------


def test_synced_passkey_shows_its_name_provider_created_and_synced_state(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    synced = SoftwareAuthenticator(aaguid=ICLOUD_KEYCHAIN, backup_eligible=True, backup_state=True)
    browser.sign_up_with_passkey(synced, "alice")
    [passkey] = passkeys_of(app, "alice")

    card = text_of(browser.client.get("/account/passkeys"), f"passkey-{passkey.id}")

    assert card is not None
    assert "iCloud Keychain" in card  # the default name and the provider
    assert "Provider iCloud Keychain" in card
    assert "Synced across your devices" in card
    assert f"Created {clock.now().day} {clock.now():%B %Y, %H:%M} UTC" in card
    assert "Last used Not yet" in card


def test_device_bound_passkey_of_an_unknown_provider_says_this_device_only(
    app: Flask, alice: Browser
) -> None:
    [passkey] = passkeys_of(app, "alice")

    card = text_of(alice.client.get("/account/passkeys"), f"passkey-{passkey.id}")

    assert card is not None
    assert "Provider Not known" in card
    assert "This device only" in card


def test_last_used_shows_the_latest_sign_in(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    alice.sign_out()
    clock.advance(seconds=3600)
    assert alice.sign_in_with_passkey(authenticator).status_code == 200
    [passkey] = passkeys_of(app, "alice")

    card = text_of(alice.client.get("/account/passkeys"), f"passkey-{passkey.id}")

    assert card is not None
    assert f"Last used {clock.now().day} {clock.now():%B %Y, %H:%M} UTC" in card


def test_passkey_flagged_as_possibly_cloned_shows_a_warning_and_the_other_does_not(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    other = SoftwareAuthenticator()
    add_passkey(alice, other)
    alice.sign_out()
    assert alice.sign_in_with_passkey(authenticator).status_code == 200
    alice.sign_out()
    # The same counter again: what a copy of the key, used elsewhere meanwhile, sends.
    stale = authenticator.credentials[0].sign_count
    refused = alice.sign_in_with_passkey(authenticator, sign_count=stale)
    assert refused.status_code == 400
    assert alice.sign_in_with_passkey(other).status_code == 200
    cloned, fine = passkeys_of(app, "alice")

    page = alice.client.get("/account/passkeys")

    warning = text_of(page, f"passkey-{cloned.id}-warning")
    assert warning is not None
    assert warning.startswith("Warning: this passkey may have been copied.")
    assert not has_id(page, f"passkey-{fine.id}-warning")


# --- rename ---------------------------------------------------------------------------


def test_renaming_a_passkey_changes_its_name_and_is_audited(app: Flask, alice: Browser) -> None:
    [passkey] = passkeys_of(app, "alice")

    response = alice.post_form(f"/account/passkeys/{passkey.id}/name", {"name": "  Work   laptop "})

    assert response.status_code == 302
    assert [p.name for p in passkeys_of(app, "alice")] == ["Work laptop"]
    assert text_of(alice.client.get("/account/passkeys"), f"passkey-{passkey.id}-name") == (
        "Work laptop"
    )
    assert audit_events(app, "passkey.renamed") == [{"passkey_id": passkey.id}]


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 65, "evil\u202eeman", "tab\tinside\x00"], ids=repr
)
def test_a_passkey_name_that_is_empty_too_long_or_unprintable_is_refused_at_the_field(
    app: Flask, alice: Browser, name: str
) -> None:
    [passkey] = passkeys_of(app, "alice")

    response = alice.post_form(f"/account/passkeys/{passkey.id}/name", {"name": name})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert text_of(html, f"name-{passkey.id}-error")
    assert f'aria-describedby="name-{passkey.id}-error"' in html
    assert 'aria-invalid="true"' in html
    assert [p.name for p in passkeys_of(app, "alice")] == [passkey.name]


def test_someone_elses_passkey_cannot_be_renamed(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    [alices] = passkeys_of(app, "alice")
    mallory = new_browser()
    mallory.sign_up_with_passkey(SoftwareAuthenticator(), "mallory")

    response = mallory.post_form(f"/account/passkeys/{alices.id}/name", {"name": "mine now"})

    assert response.status_code == 404
    assert [p.name for p in passkeys_of(app, "alice")] == [alices.name]


# --- add another ----------------------------------------------------------------------


def test_adding_a_passkey_excludes_the_existing_ones_so_one_device_holds_one(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    options = alice.post_json("/api/passkeys/add/options", consent_body(alice)).get_json()

    excluded = [c["id"] for c in options["excludeCredentials"]]
    assert excluded == [authenticator.credentials[0].id_b64url]
    with pytest.raises(ExcludedCredentialError):
        authenticator.create(options)  # the same device refuses to make a duplicate
    assert len(passkeys_of(app, "alice")) == 1


def test_a_passkey_added_from_the_page_is_listed(app: Flask, alice: Browser) -> None:
    add_passkey(alice, SoftwareAuthenticator(aaguid=ICLOUD_KEYCHAIN, backup_eligible=True))

    first, second = passkeys_of(app, "alice")

    page = alice.client.get("/account/passkeys")
    assert text_of(page, f"passkey-{second.id}-name") == "iCloud Keychain"
    assert has_id(page, f"passkey-{first.id}")


# --- remove ---------------------------------------------------------------------------


def test_removing_a_passkey_needs_a_recent_sign_in(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    add_passkey(alice, SoftwareAuthenticator())
    first, _ = passkeys_of(app, "alice")
    clock.advance(seconds=STEP_UP_WINDOW + 1)

    confirm = alice.client.get(f"/account/passkeys/{first.id}/remove")
    removed = alice.post_form(f"/account/passkeys/{first.id}/remove", {})

    assert confirm.status_code == 302
    assert confirm.headers["Location"].startswith("/reauth?next=")
    assert removed.status_code == 302
    assert removed.headers["Location"].startswith("/reauth?next=")
    assert len(passkeys_of(app, "alice")) == 2


def test_another_passkey_remaining_the_passkey_is_removed_audited_and_signalled(
    app: Flask, alice: Browser
) -> None:
    add_passkey(alice, SoftwareAuthenticator())
    first, second = passkeys_of(app, "alice")

    assert alice.client.get(f"/account/passkeys/{first.id}/remove").status_code == 200
    response = alice.post_form(f"/account/passkeys/{first.id}/remove", {})

    assert response.status_code == 302
    assert [p.id for p in passkeys_of(app, "alice")] == [second.id]
    assert audit_events(app, "passkey.removed") == [{"passkey_id": first.id}]
    signals = page_data(alice.client.get("/account/passkeys"))["signals"]
    [user_handle] = [u for (u,) in rows(app, select(User.user_handle))]
    assert signals == [
        {
            "method": "signalAllAcceptedCredentials",
            "options": {
                "rpId": "localhost",
                "userId": b64url(user_handle),
                "allAcceptedCredentialIds": [b64url(second.credential_id)],
            },
        }
    ]


def test_the_removal_signal_is_sent_once(app: Flask, alice: Browser) -> None:
    add_passkey(alice, SoftwareAuthenticator())
    first, _ = passkeys_of(app, "alice")
    alice.post_form(f"/account/passkeys/{first.id}/remove", {})
    alice.client.get("/account/passkeys")

    assert page_data(alice.client.get("/account/passkeys"))["signals"] == []


def test_the_only_passkey_without_password_and_code_is_not_removed_and_the_page_says_why(
    app: Flask, alice: Browser
) -> None:
    [passkey] = passkeys_of(app, "alice")

    response = alice.post_form(f"/account/passkeys/{passkey.id}/remove", {})

    assert response.status_code == 409
    explanation = text_of(response, "remove-error")
    assert explanation is not None
    assert "only way to sign in" in explanation
    assert "add another passkey, or set up a password and one-time code" in explanation
    assert len(passkeys_of(app, "alice")) == 1
    assert audit_events(app, "passkey.removed") == []


def test_the_page_offers_no_remove_button_for_the_last_way_in_and_says_what_to_set_up(
    app: Flask, alice: Browser
) -> None:
    [passkey] = passkeys_of(app, "alice")

    page = alice.client.get("/account/passkeys")
    confirm = alice.client.get(f"/account/passkeys/{passkey.id}/remove")

    assert not has_id(page, f"remove-{passkey.id}")
    hint = text_of(page, "last-way-in")
    assert hint is not None
    assert "set up a password and one-time code" in hint
    assert confirm.status_code == 200
    assert not has_id(confirm, "confirm-remove")
    assert "only way to sign in" in (text_of(confirm, "last-way-in-explained") or "")


def test_with_password_and_code_the_only_passkey_can_be_removed(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "bob")
    add_passkey(browser, SoftwareAuthenticator())
    [passkey] = passkeys_of(app, "bob")

    response = browser.post_form(f"/account/passkeys/{passkey.id}/remove", {})

    assert response.status_code == 302
    assert passkeys_of(app, "bob") == []
    [signal] = page_data(browser.client.get("/account/passkeys"))["signals"]
    assert signal["options"]["allAcceptedCredentialIds"] == []


def test_someone_elses_passkey_cannot_be_removed(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    add_passkey(alice, SoftwareAuthenticator())
    first, _ = passkeys_of(app, "alice")
    mallory = new_browser()
    mallory.sign_up_with_passkey(SoftwareAuthenticator(), "mallory")
    add_passkey(mallory, SoftwareAuthenticator())

    confirm = mallory.client.get(f"/account/passkeys/{first.id}/remove")
    removed = mallory.post_form(f"/account/passkeys/{first.id}/remove", {})

    assert (confirm.status_code, removed.status_code) == (404, 404)
    assert len(passkeys_of(app, "alice")) == 2


def test_the_last_way_in_check_counts_only_the_persons_own_passkeys(
    app: Flask, alice: Browser, new_browser: Any
) -> None:
    new_browser().sign_up_with_passkey(SoftwareAuthenticator(), "bob")  # another account
    [passkey] = passkeys_of(app, "alice")

    assert alice.post_form(f"/account/passkeys/{passkey.id}/remove", {}).status_code == 409


def test_the_pages_need_a_sign_in(browser: Browser) -> None:
    for path in ("/account/passkeys", "/account/passkeys/1/remove"):
        response = browser.client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/signin?next=")


def test_a_sign_in_with_any_passkey_lists_every_passkey_of_the_account_and_no_other(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    """The sign-in's Signal API options (signalAllAcceptedCredentials): all of the
    account's passkeys, whichever one signed in; never another account's."""
    second = SoftwareAuthenticator()
    add_passkey(alice, second)
    bob = Browser(app.test_client())
    assert bob.sign_up_with_passkey(SoftwareAuthenticator(), "bob").status_code == 200
    alices = {b64url(p.credential_id) for p in passkeys_of(app, "alice")}
    assert len(alices) == 2
    for used in (authenticator, second):
        alice.sign_out()
        answer = alice.sign_in_with_passkey(used)
        assert answer.status_code == 200, answer.get_json()
        assert set(answer.get_json()["signal"]["allAcceptedCredentialIds"]) == alices
