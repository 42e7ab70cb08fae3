"""The first run after a passkey sign-up (issue 17 items 1 and 4): the account page
confirms the passkey, with its provider when known, lets the person name it there and
then, and offers a backup way in as the next step (a second passkey, or recovery codes,
which a passkey sign-up can now get and use). Withdrawal stays one click in the consent
panel, below, not the headline. Default names tell two passkeys apart."""

from __future__ import annotations

import re
import uuid

from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser
from tests.functional.account_pages import has_id, text_of
from tests.functional.test_account_passkeys import passkeys_of
from tests.functional.test_add_passkey_reminder import add_from_the_page
from tests.support.authenticator import SoftwareAuthenticator

ICLOUD_KEYCHAIN = uuid.UUID("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").bytes
_CODE = re.compile(r"<li><code>([^<]+)</code></li>")


def _input_value(html: str, element_id: str) -> str:
    match = re.search(rf'<input id="{element_id}"[^>]*value="([^"]*)"', html, re.S)
    assert match is not None, element_id
    return match.group(1)


def test_after_a_passkey_sign_up_the_account_page_confirms_it_with_its_provider(
    browser: Browser,
) -> None:
    synced = SoftwareAuthenticator(aaguid=ICLOUD_KEYCHAIN, backup_eligible=True, backup_state=True)
    assert browser.sign_up_with_passkey(synced, "alice").status_code == 200

    page = browser.client.get("/account")

    assert text_of(page, "passkey-ready-heading") == "Your passkey is ready"
    where = text_of(page, "passkey-ready-where")
    assert "It's saved in iCloud Keychain, which keeps it on your other devices too." in where
    assert _input_value(page.get_data(as_text=True), "new-passkey-name") == "iCloud Keychain"
    # Once: the next visit is an ordinary account page.
    assert not has_id(browser.client.get("/account"), "passkey-ready")


def test_an_unknown_provider_is_not_guessed_and_the_name_says_the_day(
    browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200

    page = browser.client.get("/account")

    assert "saved on the device or security key you just used" in text_of(
        page, "passkey-ready-where"
    )
    today = f"{clock.now().day} {clock.now():%b %Y}"
    assert _input_value(page.get_data(as_text=True), "new-passkey-name") == f"Passkey from {today}"


def test_the_person_names_the_passkey_right_there_and_stays_on_the_account_page(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    page = browser.client.get("/account").get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" class="rename-form"', page)
    assert action is not None
    next_url = re.search(r'<input type="hidden" name="next" value="([^"]+)">', page)
    assert next_url is not None
    assert next_url.group(1) == "/account"

    named = browser.post_form(action.group(1), {"name": "Work laptop", "next": next_url.group(1)})

    assert named.status_code == 302
    assert named.headers["Location"] == "/account"
    assert [p.name for p in passkeys_of(app, "alice")] == ["Work laptop"]


def test_a_foreign_next_after_naming_goes_to_the_passkeys_page(
    browser: Browser, authenticator: SoftwareAuthenticator, app: Flask
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    [passkey] = passkeys_of(app, "alice")

    named = browser.post_form(
        f"/account/passkeys/{passkey.id}/name", {"name": "Phone", "next": "https://evil.example/"}
    )

    assert named.headers["Location"] == "/account/passkeys"


def test_the_next_step_offered_is_a_backup_above_the_withdrawal(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200

    html = browser.client.get("/account").get_data(as_text=True)

    assert has_id(html, "backup-add-passkey")
    assert has_id(html, "backup-recovery-codes")
    # Withdrawal stays one click in the consent panel, but it is not the headline.
    assert has_id(html, "withdraw-consent")
    assert html.index('id="passkey-ready"') < html.index('id="backup-offer"')
    assert html.index('id="backup-offer"') < html.index('id="withdraw-consent"')
    assert html.index('id="backup-offer"') < html.index('id="only-way-in"')


def test_a_passkey_sign_up_gets_recovery_codes_from_the_first_run_and_they_work(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200

    codes_page = browser.post_form("/account/recovery-codes", {})

    assert codes_page.status_code == 200
    codes = _CODE.findall(codes_page.get_data(as_text=True))
    assert len(codes) == 10
    assert not has_id(browser.client.get("/account"), "backup-offer")
    # The lost-passkey help: the codes open a restricted session to set up a new way in.
    browser.sign_out()
    recovered = browser.post_form(
        "/signin/recovery", {"username": "alice", "recovery_code": codes[0]}
    )
    assert recovered.status_code == 302
    assert recovered.headers["Location"].endswith("/account/recover")


def test_a_second_passkey_is_a_backup_too_and_is_confirmed_where_it_was_added(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    browser.client.get("/account")  # the first run, seen

    added = add_from_the_page(browser, SoftwareAuthenticator())

    assert added.status_code == 200
    first, second = passkeys_of(app, "alice")
    assert first.name != second.name  # two unknown-provider passkeys, told apart
    page = browser.client.get(added.get_json()["redirect"])
    html = page.get_data(as_text=True)
    assert has_id(page, "passkey-ready")
    assert f'action="/account/passkeys/{second.id}/name"' in html
    assert not has_id(browser.client.get("/account"), "backup-offer")


def test_a_password_and_code_sign_up_is_not_told_about_a_passkey(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "pat")

    page = browser.client.get("/account")

    assert not has_id(page, "passkey-ready")
    assert not has_id(page, "backup-offer")
