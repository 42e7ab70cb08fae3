"""Issue 14 item 2 in a real browser: "No thanks" in another tab while the first passkey
ceremony is still finishing. The late verify request carries the cookie it was sent with
(the one holding the ceremony), so only the server-side discard can refuse it."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_passkey_flows import choose_username, create_passkey

VERIFY = "**/api/passkeys/sign-up/verify"
PERSON_TABLES = ("users", "passkeys", "user_sessions", "consent_events")


def _hold_verify(page: Page) -> list[Route]:
    """Hold the page's verify request, as a slow authenticator and network would."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(VERIFY, hold)
    return held


def _wait_for(page: Page, held: list[Route]) -> Route:
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the page never sent its verify request"
    return held[0]


def _rows(live_server: LiveServer) -> dict[str, int]:
    return {t: live_server.query(f"SELECT count(*) FROM {t}")[0][0] for t in PERSON_TABLES}


def test_no_thanks_while_the_first_ceremony_finishes_creates_no_account(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    VirtualAuthenticators(context.new_cdp_session(page)).add()
    held = _hold_verify(page)
    choose_username(page, "alice")
    create_passkey(page)  # ticks the box: options requested, the passkey is created
    late = _wait_for(page, held)

    other = context.new_page()  # same browser, another tab: "No thanks"
    other.goto(live_server.url + "/signup/how")
    other.click("#use-password")
    expect(other).to_have_url(re.compile(r"/signup/password$"))

    with page.expect_response(VERIFY) as answer:
        late.continue_()
    assert answer.value.status == 400
    expect(page.locator("#status")).to_have_attribute("data-kind", "error")
    assert _rows(live_server) == dict.fromkeys(PERSON_TABLES, 0)


def test_a_new_username_while_the_first_ceremony_finishes_creates_no_account(
    context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    VirtualAuthenticators(context.new_cdp_session(page)).add()
    held = _hold_verify(page)
    choose_username(page, "alice")
    create_passkey(page)
    late = _wait_for(page, held)

    other = context.new_page()  # goes back and chooses another username
    other.goto(live_server.url + "/signup")
    other.fill("#username", "alicia")
    other.click("#continue")
    expect(other).to_have_url(re.compile(r"/signup/how$"))

    with page.expect_response(VERIFY) as answer:
        late.continue_()
    assert answer.value.status == 400
    assert _rows(live_server) == dict.fromkeys(PERSON_TABLES, 0)
