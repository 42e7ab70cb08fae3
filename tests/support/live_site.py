"""One live server and one Chromium page shared by a module that visits many people's pages:
the app the server runs is switched to the app each person meets (the switched-off person
meets the restarted one). Used by the e2e walks over every account state (layout, language),
which share the walk itself too: :func:`as_person` and :func:`as_visitor` put the window in
someone's place and list their pages, :func:`problems_on` opens each page and collects what
the test finds wrong there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from playwright.sync_api import Page

from tests.conftest import Browser as Client
from tests.support.accounts import COUNTRY_HEADER, People, State, into_context, place
from tests.support.crawler import Crawl, crawl

#: STEP_UP_SECONDS + 1: sensitive pages now ask the person to confirm it's them.
PAST_STEP_UP = 301
#: Where a visitor's walk starts besides the home page, so it reaches these pages too.
VISITOR_STARTS = ("/signup/how", "/signin/recovery", "/signin/lost-passkey", "/privacy/manifest")
#: Where the visitor is (the country the trusted proxy reports).
VISITOR_COUNTRY = "DE"


@dataclass
class Site:
    """One server for the module; ``app`` is the app it runs at the moment."""

    url: str
    people: People
    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "no app chosen"
        return self.app(environ, start_response)


@dataclass
class Window:
    """The one browser page the module reuses, and its script errors as they happen."""

    page: Page
    errors: list[str]


def html_pages(walk: Crawl) -> list[str]:
    """The HTML pages a crawl reached (no error answers, no downloads), sorted."""
    return sorted(
        url for url, page in walk.pages.items() if page.status < 400 and url not in walk.downloads
    )


def as_person(site: Site, window: Window, state: State) -> list[str]:
    """A person in ``state``, with the step-up window passed (so "Confirm it's you" is among
    their pages), served by the site and signed in in the window: the HTML pages the
    crawler finds for them."""
    person = site.people.make(state)
    site.people.clock.advance(seconds=PAST_STEP_UP)
    site.app = person.app
    urls = html_pages(crawl(person.browser))
    assert len(urls) > 3, urls
    window.page.context.clear_cookies()
    into_context(window.page.context, person, site.url)
    return urls


def as_visitor(site: Site, window: Window) -> list[str]:
    """Signed out, half-way through a sign-up (a username chosen, so the choice of how to
    sign in opens too), in the window: the HTML pages the crawler finds for them."""
    site.app = site.people.app()
    visitor = Client(site.app.test_client())
    place(visitor, VISITOR_COUNTRY)
    assert visitor.choose_username("visitor").status_code == 302
    walk = crawl(visitor, "/")
    for start in VISITOR_STARTS:
        crawl(visitor, start, walk)
    urls = html_pages(walk)
    assert "/signup/how" in urls
    context = window.page.context
    context.clear_cookies()
    name = site.app.config["SESSION_COOKIE_NAME"]
    cookie = visitor.client.get_cookie(name)
    assert cookie is not None
    context.add_cookies([{"name": name, "value": cookie.value, "url": site.url}])
    context.set_extra_http_headers({COUNTRY_HEADER: VISITOR_COUNTRY})
    return urls


def problems_on(window: Window, urls: list[str], read: Callable[[str], list[str]]) -> list[str]:
    """Open each address in the window (each must answer 2xx) and ask ``read`` what is wrong
    on the page it shows; each page's script errors and Content-Security-Policy violations
    are wrong too."""
    found: list[str] = []
    window.errors.clear()
    for url in urls:
        response = window.page.goto(url)
        assert response is not None, url
        assert response.ok, f"{url}: {response.status}"
        found += read(url)
        found += [f"{url}: script error {error}" for error in window.errors]
        window.errors.clear()
    return found
