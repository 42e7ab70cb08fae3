"""Walking the app: every route in ``app.url_map``, and every page a signed-in person can
reach from the account home by following links and forms.

- :func:`routes` / :func:`state_changing_routes`: each endpoint with its methods, from
  ``app.url_map`` (so a route added tomorrow is walked too).
- :func:`crawl`: breadth first from ``/account``, following the links and GET forms in each
  page's ``<main>`` (redirects too, e.g. to the step-up page), never submitting a POST form
  (those change things: they are recorded as the page's actions).
- :func:`dead_ends`: the pages on which nothing works. A page has a *working action* when
  one of its links or forms leads to a 2xx page that is itself not a dead end (or to a
  file download), or completes an action: a POST form to a route that takes POST (other
  than signing out, which ends the visit), or a
  button an ES module runs whose first request (the page data's ``endpoints.options``)
  is answered 2xx. Computed as a least fixed point, so a loop of pages that only link to
  each other is a dead end too.

Reused by the UX issue's layout tests (issue 17 item 14): ``crawl`` gives the pages of an
account state, ``Page.url`` the address to open in the browser.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from tests.conftest import Browser
from tests.support.pages import Form, Page, read_page, site_path

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Forms that end the visit rather than do something: "Sign out" is on every signed-in
#: page, so a page whose only action is leaving counts as a dead end.
LEAVING = frozenset({"sessions.signout"})
#: Enough for every page of one account (about 20 today); a runaway walk stops here.
MAX_PAGES = 80
MAX_REDIRECTS = 5


def routes(app: Flask) -> list[tuple[Rule, frozenset[str]]]:
    """Every rule with the methods it answers (HEAD and OPTIONS left out), sorted."""
    return [
        (rule, frozenset((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    ]


def state_changing_routes(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule, methods in routes(app)
        for method in sorted(methods & STATE_CHANGING)
    ]


def endpoint_of(app: Flask, path: str, method: str = "GET") -> str | None:
    """The endpoint that answers ``method`` at ``path``, or None."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _values = adapter.match(path.split("?", 1)[0], method=method)
    except HTTPException:  # NotFound, MethodNotAllowed
        return None
    return str(endpoint)


@dataclass
class Visit:
    """One page reached: where the link pointed, where it ended, what is on it."""

    requested: str
    page: Page
    #: Not an HTML page (a download, a JSON document).
    download: bool = False


@dataclass
class Crawl:
    start: str
    #: Final address (path and query) -> the page found there.
    pages: dict[str, Page] = field(default_factory=dict)
    #: Link or GET-form target as written on a page -> final address after redirects.
    resolved: dict[str, str] = field(default_factory=dict)
    downloads: set[str] = field(default_factory=set)

    def target(self, href: str) -> Page | None:
        final = self.resolved.get(href)
        return None if final is None else self.pages.get(final)


def _get(browser: Browser, url: str) -> tuple[str, TestResponse]:
    """GET ``url`` following redirects within the site; the final address and answer."""
    response = browser.client.get(url)
    for _ in range(MAX_REDIRECTS):
        if response.status_code not in (301, 302, 303, 307, 308):
            break
        location = site_path(response.headers["Location"])
        if location is None:
            break
        url, response = location, browser.client.get(location)
    return url, response


def _exits(page: Page) -> list[str]:
    """Addresses a person can go to from this page without changing anything."""
    targets = [path for link in page.links if (path := site_path(link.href)) is not None]
    for form in page.forms:
        if form.method == "GET" and not form.scripted:
            path = site_path(form.action.split("?", 1)[0])  # the form's data is the query
            if path is not None:
                query = urlencode(form.values)
                targets.append(f"{path}?{query}" if query else path)
    return targets


def crawl(browser: Browser, start: str = "/account", walk: Crawl | None = None) -> Crawl:
    """Every page reachable from ``start`` (signed-in or not, as ``browser`` is); with
    ``walk``, adds to a walk already made."""
    walk = walk or Crawl(start)
    queue = deque([start])
    while queue:
        href = queue.popleft()
        if href in walk.resolved:
            continue
        final, response = _get(browser, href)
        walk.resolved[href] = final
        if final in walk.pages:
            continue
        if response.mimetype != "text/html":
            if 200 <= response.status_code < 300:
                walk.downloads.add(final)
            walk.pages[final] = Page(url=final, status=response.status_code)
            continue
        page = read_page(final, response.status_code, response.get_data(as_text=True))
        walk.pages[final] = page
        assert len(walk.pages) <= MAX_PAGES, f"more than {MAX_PAGES} pages from {start}"
        queue.extend(_exits(page))
    return walk


@dataclass
class Verdict:
    """What works on one page."""

    page: Page
    links: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    #: Ceremonies that start (a scripted form's or button's first request is 2xx).
    scripts: list[str] = field(default_factory=list)
    #: Where a scripted action sends the person instead (e.g. to confirm it's them).
    script_detours: list[str] = field(default_factory=list)
    #: A published document (a notice): reading it is what the page is for.
    document: bool = False

    @property
    def works(self) -> bool:
        return bool(self.document or self.links or self.forms or self.scripts)


def _press(browser: Browser, page: Page, form: Form | None) -> tuple[bool, str | None]:
    """Press a button an ES module runs: the module's first request is a POST of
    ``endpoints.options`` (with the consent the form shows, when it shows a notice).
    Returns whether it was accepted, and where the answer sends the person if not
    (a problem document's ``stepUpUrl``, which the modules follow)."""
    endpoints: Any = page.data.get("endpoints")
    options = endpoints.get("options") if isinstance(endpoints, dict) else None
    if not isinstance(options, str):
        return False, None
    body: dict[str, Any] = {}
    if form is not None and "notice_version" in form.values:
        body = {
            "consent": True,
            "notice_version": form.values["notice_version"],
            "notice_sha256": form.values.get("notice_sha256"),
        }
    response = browser.post_json(options, body)
    if 200 <= response.status_code < 300:
        return True, None
    if response.status_code != 401:
        return False, None
    # Asked to confirm it's them first: each module knows where to send the person
    # (its page data's "stepUp" or "endpoints.reauth"), else the problem's stepUpUrl.
    problem = response.get_json(silent=True)
    for detour in (
        page.data.get("stepUp"),
        endpoints.get("reauth"),
        problem.get("stepUpUrl") if isinstance(problem, dict) else None,
    ):
        if isinstance(detour, str):
            return False, site_path(detour)
    return False, None


def judge(
    app: Flask, browser: Browser, walk: Crawl, documents: Collection[str] = ()
) -> dict[str, Verdict]:
    """For each page reached, its working actions (see the module docstring). Pressing a
    scripted button may lead to a page not reached yet: the walk is extended from it.
    ``documents``: endpoints whose pages are read, not acted on (they count as working)."""
    verdicts: dict[str, Verdict] = {}
    while unjudged := [url for url in walk.pages if url not in verdicts]:
        for url in unjudged:
            verdicts[url] = _judge_page(app, browser, walk, walk.pages[url])
            verdicts[url].document = endpoint_of(app, url) in documents
    changed = True
    while changed:  # least fixed point: a link works if it leads to a page that works
        changed = False
        for verdict in verdicts.values():
            if not _ok(verdict.page):
                continue
            for href in _exits(verdict.page) + verdict.script_detours:
                final = walk.resolved.get(href)
                target = verdicts.get(final) if final is not None else None
                if href in verdict.links or target is None or not _ok(target.page):
                    continue
                if final in walk.downloads or target.works:
                    verdict.links.append(href)
                    changed = True
    return verdicts


def _judge_page(app: Flask, browser: Browser, walk: Crawl, page: Page) -> Verdict:
    """The page's own actions; links are judged once every page is known."""
    verdict = Verdict(page)
    if not _ok(page) or page.url in walk.downloads:
        return verdict
    verdict.forms = [
        form
        for form in page.forms
        if form.method == "POST"
        and not form.scripted
        and endpoint_of(app, form.action, "POST") not in (None, *LEAVING)
    ]
    pressed: list[tuple[str, Form | None]] = [(f.id, f) for f in page.forms if f.scripted]
    pressed += [(button, None) for button in page.script_buttons]
    for name, form in pressed:
        started, detour = _press(browser, page, form)
        if started:
            verdict.scripts.append(name)
        elif detour is not None:
            crawl(browser, detour, walk)
            verdict.script_detours.append(detour)
    return verdict


def _ok(page: Page) -> bool:
    return 200 <= page.status < 300


def dead_ends(
    app: Flask, browser: Browser, walk: Crawl, documents: Collection[str] = ()
) -> list[str]:
    """Pages reached (2xx HTML) on which nothing works, each with its title."""
    return [
        f"{url} ({verdict.page.title})"
        for url, verdict in judge(app, browser, walk, documents).items()
        if _ok(verdict.page) and url not in walk.downloads and not verdict.works
    ]
