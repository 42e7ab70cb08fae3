"""The account-state fixtures in a real browser: a person made through the app's own
endpoints (tests/support/accounts.py) is carried into a Chromium context and is signed
in there as that person, in their place (the country the trusted proxy reports).

This is the bridge the layout tests of the UX issue use (issue 17 item 14): make a person
in a state, crawl their pages (tests/support/crawler.py), open each page in Chromium.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from authdemo.clock import FrozenClock
from tests.e2e.harness import LiveServer
from tests.support.accounts import ROLLOUT, People, State, into_context
from tests.support.crawler import crawl


def people_on(server: LiveServer) -> People:
    """People made on the live server's own app (one app: no restart-based states)."""

    def the_app(**settings: Any) -> Flask:
        assert settings == ROLLOUT, "this live server runs with the ROLLOUT settings only"
        return server.app

    return People(the_app, FrozenClock())


@pytest.mark.parametrize("app_config", [ROLLOUT])
@pytest.mark.parametrize("state", [State.PASSKEY_ONLY, State.NOT_OFFERED], ids=str)
def test_a_person_made_by_the_fixtures_is_signed_in_in_chromium(
    live_server: LiveServer, context: BrowserContext, page: Page, state: State
) -> None:
    person = people_on(live_server).make(state)
    into_context(context, person, live_server.url)
    page.goto("/account")
    expect(page.locator("#signed-in-as")).to_have_text(person.username)
    # The place came along: passkey sign-in is off for this person only where it is not
    # offered (the account page says why).
    expect(page.locator("#passkey-signin-off")).to_have_count(
        1 if state is State.NOT_OFFERED else 0
    )


@pytest.mark.parametrize("app_config", [ROLLOUT])
def test_every_page_the_crawler_finds_opens_in_chromium(
    live_server: LiveServer, context: BrowserContext, page: Page
) -> None:
    person = people_on(live_server).make(State.PASSKEY_ONLY)
    walk = crawl(person.browser)
    into_context(context, person, live_server.url)
    html_pages = [url for url in walk.pages if url not in walk.downloads]
    assert len(html_pages) > 5, html_pages
    for url in html_pages:
        response = page.goto(url)
        assert response is not None
        assert response.ok, f"{url}: {response.status}"
        assert page.title() == walk.pages[url].title, url
