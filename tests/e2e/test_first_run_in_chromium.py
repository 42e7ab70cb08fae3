"""The first run after a passkey sign-up, passkey names, adding a passkey with consent
already given, and the suggested session name, as a person meets them in Chromium (issue
17 items 1, 4, 6 and 12).

- The first page confirms the passkey with its provider, lets the person name it there,
  and offers a backup (a second passkey, or recovery codes) before anything else;
  withdrawal is still one click further down.
- A second passkey from an unknown provider gets a different default name, and the
  person names it right after adding it.
- With consent given, the passkeys page reminds in one line with a link to the notice and
  adds a passkey without a new ledger row; a new notice version shows the notice and the
  box again.
- The sessions page suggests "Chrome on Linux" from Chromium's own User-Agent, and keeps
  it only when saved; the raw User-Agent is never in the database.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_passkey_experience import Device, passkey_cards
from tests.e2e.test_passkey_flows import expect_account_of, sign_up
from tests.functional.test_consent_support import WORDING_NEXT, publish


def grants(live_server: LiveServer) -> list[tuple[str, str]]:
    return live_server.query(
        "SELECT notice_version, method FROM consent_events WHERE action = 'granted' ORDER BY id"
    )


def test_first_run_confirms_the_passkey_lets_it_be_named_and_offers_recovery_codes(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add(defaultBackupEligibility=True, defaultBackupState=True)
    sign_up(page, "alice")

    ready = page.locator("#passkey-ready")
    expect(ready.locator("h2")).to_have_text("Your passkey is ready")
    expect(page.locator("#passkey-ready-where")).to_contain_text("keeps it on your other devices")
    # What a person meets first is the confirmation and the backup, not the withdrawal.
    first = page.locator("main h2").first
    expect(first).to_have_text("Your passkey is ready")
    ready_box = ready.bounding_box()
    backup_box = page.locator("#backup-offer").bounding_box()
    withdraw_box = page.locator("#withdraw-consent").bounding_box()
    assert ready_box
    assert backup_box
    assert withdraw_box
    assert ready_box["y"] < backup_box["y"] < withdraw_box["y"]

    page.fill("#new-passkey-name", "Work laptop")
    page.click("#save-passkey-name")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("main p.notice").first).to_contain_text("now called “Work laptop”")
    expect(page.locator("#passkey-ready")).to_have_count(0)  # confirmed once
    assert live_server.query("SELECT name FROM passkeys") == [("Work laptop",)]

    page.click("#backup-recovery-codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#codes-saved")
    expect_account_of(page, "alice")
    expect(page.locator("#backup-offer")).to_have_count(0)


def test_a_second_passkey_gets_its_own_name_and_is_named_after_adding_it(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    platform = virtual_authenticator.add()
    sign_up(page, "alice")
    page.click("#backup-add-passkey")
    expect(page).to_have_url(re.compile(r"/account/passkeys#add-heading$"))
    page.wait_for_load_state()
    security_key = virtual_authenticator.add(transport="usb")
    Device(page).presence(platform, automatic=False)  # the security key answers

    # Consent was given at sign-up: a one-line reminder with a link, no notice, no box.
    reminder = page.locator("#consent-reminder")
    expect(reminder).to_be_visible()
    expect(reminder.locator("a")).to_have_attribute("href", re.compile(r"^/notices/passkeys/"))
    expect(page.locator("#passkey-consent")).to_have_count(0)
    expect(page.locator("#passkey-notice")).to_have_count(0)
    before = grants(live_server)

    page.click("#add-passkey")

    expect(page.locator("#passkey-ready")).to_be_visible()
    assert len(virtual_authenticator.credentials(security_key)) == 1
    assert grants(live_server) == before  # no new decision, no new ledger row
    names = [name for (name,) in live_server.query("SELECT name FROM passkeys ORDER BY id")]
    assert len(names) == 2
    assert names[0] != names[1]
    assert names[1].startswith("Security key from ")
    expect(page.locator("#new-passkey-name")).to_have_value(names[1])

    page.fill("#new-passkey-name", "Blue key")
    page.click("#save-passkey-name")
    expect(page).to_have_url(re.compile(r"/account/passkeys$"))
    assert "Blue key" in passkey_cards(page)[1]


def test_a_new_notice_version_asks_again_when_adding_a_passkey(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    platform = virtual_authenticator.add()
    sign_up(page, "alice")
    publish(live_server.app, WORDING_NEXT)
    page.goto("/account/passkeys")
    page.wait_for_load_state()
    virtual_authenticator.add(transport="usb")
    Device(page).presence(platform, automatic=False)

    expect(page.locator("#consent-reminder")).to_have_count(0)
    expect(page.locator("#passkey-notice")).to_contain_text(WORDING_NEXT.text)
    page.click("#add-passkey")
    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#passkey-consent")).to_be_focused()
    page.check("#passkey-consent")
    page.click("#add-passkey")

    expect(page.locator("#passkey-ready")).to_be_visible()
    assert [version for version, _ in grants(live_server)][-1] == WORDING_NEXT.version
    assert len(grants(live_server)) == 2


def test_the_sessions_page_suggests_chromes_own_browser_and_platform_and_keeps_it_if_saved(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    # Issue 17 item 12, with the User-Agent this Chromium really sends.
    virtual_authenticator.add()
    sign_up(page, "alice")
    user_agent = page.evaluate("navigator.userAgent")
    page.goto("/account/sessions")

    field = page.locator("#device_label")
    expect(field).to_have_value("Chrome on Linux")
    assert live_server.query("SELECT device_label FROM user_sessions") == [(None,)]

    page.click("#save-device-label")
    expect(page.locator("main p.notice").first).to_contain_text("“Chrome on Linux”")
    assert live_server.query("SELECT device_label FROM user_sessions") == [("Chrome on Linux",)]
    raw = live_server.database_bytes()
    version = re.search(r"Chrome/([\d.]+)", user_agent)
    assert version is not None
    assert user_agent.encode() not in raw
    assert version.group(1).encode() not in raw
