"""Issue 20 item 3 in Chromium: the "Report a problem" form as a person uses it, and the
page script's report of a passkey ceremony the browser ended with an error (the error's
name only), both reaching the database."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators

TEXT = "The fingerprint prompt vanished before I could touch the sensor."


def test_a_person_reports_a_problem_from_the_sign_in_page(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/signin")
    page.click("#footer-report-problem")
    expect(page.locator("h1")).to_have_text("Report a problem")
    expect(page.locator("#report-anonymous")).to_be_visible()
    page.check("#category-passkey_sign_in")
    page.fill("#text", TEXT)
    page.click("#send-report")
    expect(page.locator("main")).to_contain_text("Your report has reached us")
    expect(page).to_have_url(re.compile(r"/report-a-problem$"))
    assert live_server.query("SELECT category, text, user_id, cohort FROM complaints") == [
        ("passkey_sign_in", TEXT, None, "unknown")
    ]


def test_a_passkey_sign_in_the_browser_refuses_is_reported_by_its_error_name(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add()  # no passkey for this site on it: NotAllowedError
    page.goto("/signin")
    page.wait_for_load_state()
    with page.expect_response("**/api/passkeys/problems") as reported:
        page.click("#signin-passkey")
    assert reported.value.status == 204
    assert reported.value.request.post_data_json == {
        "ceremony": "sign_in",
        "error": "NotAllowedError",
    }
    rows = live_server.query(
        "SELECT user_ref, details FROM audit_events WHERE event = 'passkey.ceremony_problem'"
    )
    assert len(rows) == 1
    assert rows[0][0] is None


def test_a_passkey_the_device_refuses_to_create_is_reported_as_a_sign_up_problem(
    page: Page, virtual_authenticator: VirtualAuthenticators, live_server: LiveServer
) -> None:
    virtual_authenticator.add(isUserVerified=False)  # the face or fingerprint check fails
    page.goto("/signup")
    page.fill("#username", "alice")
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    page.wait_for_load_state()  # the page's module has attached its handlers
    page.check("#passkey-consent")
    with page.expect_response("**/api/passkeys/problems") as reported:
        page.click("#create-passkey")
    assert reported.value.status == 204
    assert reported.value.request.post_data_json == {
        "ceremony": "sign_up",
        "error": "NotAllowedError",
    }
    assert live_server.query("SELECT count(*) FROM users") == [(0,)]
