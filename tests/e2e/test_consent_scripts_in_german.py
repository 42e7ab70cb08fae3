"""The consent and privacy pages' scripts speak German (issue 19 item 1): a German
Chromium profile (``locale="de-DE"``, which sets the ``Accept-Language`` it sends) hears
the opt-in box's "tick it first", the page after a withdrawal and the goodbye page after a
deletion in German, from the scripts themselves (static/js/consent-signup.js,
consent-add.js, consent-notice.js, consent-withdrawn.js, privacy-goodbye.js), with no
script error: a message a page did not send would throw (ui.js ``message``).

The German is written out here, as a person reads it; the page's status region is
``aria-live``, so it is also what a screen reader announces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.support import chromium

#: What a signed-in page's status says, by the outcome its script records.
STILL_LISTED = (
    "Ihre Passkeys funktionieren hier nicht mehr. Ihr Gerät zeigt sie vielleicht noch an: "
    "Sie können sie in dessen Passkey-Einstellungen löschen."
)
WITHDRAWN = {
    "sent": "Ihr Browser wurde gebeten, Ihre Passkeys für diese Website nicht mehr anzubieten.",
    "unsupported": STILL_LISTED,
    "failed": STILL_LISTED,
}
GOODBYE = (
    "Diesem Browser kann nicht automatisch mitgeteilt werden, Passkeys zu vergessen.",
    "Ihr Browser wurde gebeten, die Passkeys zu vergessen, die er für diese Website "
    "gespeichert hat.",
    "Ihr Browser hat nicht bestätigt, dass er die Passkeys dieser Website vergessen hat.",
)


@pytest.fixture
def app_config() -> dict[str, str]:
    return {"LANGUAGES": "en,de"}  # the operator offers German


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A German browser's page whose script errors fail the test."""
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    context.set_default_timeout(chromium.TIMEOUT_MS)
    page = context.new_page()
    errors = chromium.watch_errors(page)
    try:
        yield page
        assert not errors, f"errors in the page: {errors}"
    finally:
        context.close()


def status_says(page: Page, element: str, text: str, kind: str) -> None:
    status = page.locator(element)
    expect(status).to_have_text(text)
    expect(status).to_have_attribute("data-kind", kind)
    expect(status).to_have_attribute("aria-live", "polite")


def test_opting_in_withdrawing_and_deleting_are_spoken_in_german(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    VirtualAuthenticators(cdp).add()

    page.goto("/signup")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.fill("#username", "greta")
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/how$"))
    page.wait_for_load_state("load")  # the module that handles the button has run
    page.click("#create-passkey")  # the box is not ticked yet
    status_says(
        page,
        "#status",
        "Bitte kreuzen Sie zuerst das Kästchen an, um in die Passkey-Anmeldung "
        "einzuwilligen, oder wählen Sie die Möglichkeit mit Passwort.",
        "error",
    )
    page.check("#passkey-consent")
    page.click("#create-passkey")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#passkey-ready-heading")).to_have_text("Ihr Passkey ist bereit")

    # Withdraw (a passkey is the only way in; the sign-in is fresh, so one click).
    page.wait_for_load_state("load")
    page.click("#withdraw-consent")
    expect(page).to_have_url(re.compile(r"/account/passkeys/consent/withdrawn$"))
    status = page.locator("#signal-status")
    expect(status).to_have_attribute("data-signal", re.compile("sent|unsupported|failed"))
    outcome = status.get_attribute("data-signal")
    assert outcome is not None
    status_says(
        page, "#signal-status", WITHDRAWN[outcome], "success" if outcome == "sent" else "info"
    )

    # Turning it on again: the consent page's box, not ticked, is explained in German.
    page.goto("/account/passkeys/consent")
    page.wait_for_load_state("load")
    page.click("#add-passkey")
    status_says(
        page,
        "#status",
        "Bitte kreuzen Sie zuerst das Kästchen an, um in die Passkey-Anmeldung einzuwilligen.",
        "error",
    )

    # Delete the account: the goodbye page's script reports in German.
    page.goto("/privacy/delete")
    page.fill("#confirm_username", "greta")
    page.click("#confirm-delete")
    expect(page.locator("#goodbye")).to_have_text("Ihr Konto ist gelöscht")
    forget = page.locator("#forget-status")
    expect(forget).not_to_have_text(re.compile("…$"))
    assert forget.text_content() in GOODBYE
