"""Data-subject rights in Chromium: the privacy dashboard, the export downloaded as a
person would and checked against the shipped schema, and account deletion, after which
sign-in is impossible, every session is dead, the device is told to forget the passkey
and the database files on disk hold no trace of the person."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_passkey_flows import sign_up
from tests.functional.test_privacy_export import schema_validator


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5), encoded here, not by the app's helper."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


#: What the sign-in page says when no passkey of this site answers.
NO_PASSKEY = re.compile(r"cancelled, or no passkey for this site was found")


def delete_account(page: Page, username: str) -> None:
    """From the dashboard, as a person does it: the delete page, type the name, confirm."""
    page.goto("/privacy")
    page.click("#delete-account")
    expect(page).to_have_url(re.compile(r"/privacy/delete$"))
    page.fill("#confirm_username", username)
    page.click("#confirm-delete")
    expect(page.locator("#goodbye")).to_have_text("Your account is deleted")


def traces_of(live_server: LiveServer, username: str) -> dict[str, bytes]:
    """The identifiers of a person as the database stores them, and as they travel."""
    [(user_id, handle)] = live_server.query(
        "SELECT id, user_handle FROM users WHERE username = ?", username
    )
    [(credential_id, public_key)] = live_server.query(
        "SELECT credential_id, public_key FROM passkeys WHERE user_id = ?", user_id
    )
    return {
        "username": username.encode(),
        "account id": user_id.encode(),
        "user handle": handle,
        "user handle (base64url)": b64url(handle).encode(),
        "credential id": credential_id,
        "credential id (base64url)": b64url(credential_id).encode(),
        "public key": public_key,
    }


def test_dashboard_shows_the_person_what_is_held(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    sign_up(page, "ada")
    page.goto("/privacy")
    expect(page.locator("#privacy-username")).to_have_text("ada")
    expect(page.locator("#privacy-passkeys li")).to_have_count(1)
    expect(page.locator("#privacy-sessions li")).to_contain_text("(this session)")
    expect(page.locator("#privacy-activity")).to_contain_text(
        "You created your account with a passkey"
    )


def test_export_downloaded_in_the_browser_is_valid_against_the_schema(
    page: Page,
    live_server: LiveServer,
    virtual_authenticator: VirtualAuthenticators,
    tmp_path: Path,
) -> None:
    authenticator = virtual_authenticator.add()
    sign_up(page, "ada")
    page.goto("/privacy")
    with page.expect_download() as download_info:
        page.click("#download-data")
    download = download_info.value
    assert re.fullmatch(
        r"authdemo-personal-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document: dict[str, Any] = json.loads(saved.read_text())
    schema_validator().validate(document)

    [credential] = virtual_authenticator.credentials(authenticator)
    [passkey] = document["passkeys"]
    assert passkey["credential_id"] == b64url(base64.b64decode(credential["credentialId"]))
    assert document["account"]["user_handle"] == b64url(base64.b64decode(credential["userHandle"]))
    # The private key stays on the device: the export holds the public half only.
    assert credential["privateKey"] not in saved.read_text()
    assert live_server.query("SELECT event FROM audit_events WHERE event = 'privacy.exported'") == [
        ("privacy.exported",)
    ]


def test_deletion_signs_out_everywhere_forgets_the_passkey_and_leaves_no_trace(
    browser: Any,
    context: BrowserContext,
    page: Page,
    live_server: LiveServer,
    virtual_authenticator: VirtualAuthenticators,
) -> None:
    virtual_authenticator.add()
    sign_up(page, "quentin-erasable")
    traces = traces_of(live_server, "quentin-erasable")
    stolen_cookies = context.cookies()  # a second copy of this signed-in session

    delete_account(page, "quentin-erasable")
    # The goodbye page asked the device to forget the passkey (Chromium has the Signal API).
    expect(page.locator("html")).to_have_attribute("data-signals-sent", "1")
    # The page tells the person how it went (Chromium took the signal: "was asked to").
    expect(page.locator("#forget-status")).to_have_text(re.compile(r"^Your browser (was|didn't)"))

    # Nothing identifying is left in the database files, the write-ahead log included.
    on_disk = live_server.database_bytes()
    assert [name for name, trace in traces.items() if trace in on_disk] == []
    assert live_server.query("SELECT count(*) FROM user_sessions") == [(0,)]

    # The old session cookie is dead, wherever a copy of it is.
    other = browser.new_context(base_url=live_server.url)
    try:
        other.add_cookies(stolen_cookies)
        other_page = other.new_page()
        other_page.goto("/privacy")
        expect(other_page).to_have_url(re.compile(r"/signin\?next="))
    finally:
        other.close()

    # The device no longer offers the passkey, so sign-in finds none.
    page.goto("/signin")
    page.wait_for_load_state()
    page.click("#signin-passkey")
    expect(page.locator("#status")).to_have_text(NO_PASSKEY)


def test_a_device_that_still_offers_the_deleted_passkey_cannot_sign_in(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # Our own page: the refused sign-in is logged by Chromium as a console error, which
    # the shared `page` fixture would count as a failure.
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    authenticators = VirtualAuthenticators(cdp)
    authenticator = authenticators.add()
    sign_up(page, "ada")
    [credential] = authenticators.credentials(authenticator)
    delete_account(page, "ada")
    # A device that ignored the signal (or an older browser without the Signal API).
    if not authenticators.credentials(authenticator):
        cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential}
        )
    page.goto("/signin")
    page.wait_for_load_state()
    page.click("#signin-passkey")
    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    expect(page).to_have_url(re.compile(r"/signin"))
    assert live_server.query("SELECT count(*) FROM users") == [(0,)]
    assert live_server.query("SELECT count(*) FROM user_sessions") == [(0,)]


def test_typing_the_wrong_username_keeps_the_account(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # Our own page: Chromium logs the form's 422 answer as a console error.
    page = context.new_page()
    VirtualAuthenticators(context.new_cdp_session(page)).add()
    sign_up(page, "ada")
    page.goto("/privacy/delete")
    page.fill("#confirm_username", "someone-else")
    page.click("#confirm-delete")
    expect(page.locator("#delete-error")).to_contain_text("That is not your username")
    expect(page.locator("#confirm_username")).to_have_attribute("aria-invalid", "true")
    assert live_server.query("SELECT username FROM users") == [("ada",)]
