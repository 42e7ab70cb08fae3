"""Every page, in every account state, on a phone and on a laptop: nothing scrolls sideways
and nothing a person presses sits on top of something else (issue 17 items 10 and 14).

The people are made through the app by tests/support/accounts.py, their pages found by
tests/support/crawler.py (every page reachable from the account home, after the step-up
window has passed, so "Confirm it's you" is among them), and each page is opened in one
Chromium at 390x844 and at 1280x800. On each page:

- the document is no wider than the window (``scrollWidth <= clientWidth``): a table or a
  long fingerprint scrolls or wraps inside its own box, never the page;
- no two visible inputs, buttons, links or disclosure summaries overlap: their boxes
  (each line box of a link that wraps) intersect by less than half a pixel;
- the page raises no script error or Content-Security-Policy violation.

Before the design system (decision 0025), the sign-in, recovery, profile and password
pages and the privacy manifest (874 px) scrolled sideways on a phone, and the passkey
rename field and its button overlapped.

One server and one browser page serve the whole module (the ``site`` and ``window``
fixtures of tests/e2e/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import Browser as Client
from tests.support.accounts import State, into_context, place
from tests.support.crawler import crawl
from tests.support.live_site import Site, Window, html_pages

#: The two sizes of issue 17: a phone (iPhone 12 to 15) and a laptop.
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
#: STEP_UP_SECONDS + 1: sensitive pages now ask the person to confirm it's them.
PAST_STEP_UP = 301
#: Less than this much overlap (in CSS pixels) is rounding, not elements on top of each other.
TOLERANCE = 0.5

#: Runs in the page: the document's overflow and every pair of overlapping controls.
MEASURE = """(tolerance) => {
  const root = document.documentElement;
  const controls = [...document.querySelectorAll(
    "input:not([type=hidden]), button, select, textarea, a[href], summary")]
    .filter((el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }));
  const name = (el) => {
    const text = (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text}"`;
  };
  const boxes = controls.map((el) => [...el.getClientRects()]
    .filter((r) => r.width > 0 && r.height > 0));
  const overlaps = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i], b = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      for (const r of boxes[i]) for (const s of boxes[j]) {
        const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (x > tolerance && y > tolerance) {
          overlaps.push(`${name(a)} and ${name(b)} by ${x.toFixed(1)}x${y.toFixed(1)} px`);
        }
      }
    }
  }
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
           controls: controls.length, overlaps };
}"""


@dataclass
class Findings:
    pages: int = 0
    problems: list[str] = field(default_factory=list)


def look_at(window: Window, urls: list[str]) -> Findings:
    """Open each address at each size; what is wrong, per page and size."""
    findings = Findings()
    page, errors = window.page, window.errors
    errors.clear()
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        for url in urls:
            response = page.goto(url)
            assert response is not None, url
            assert response.ok, f"{url}: {response.status}"
            seen = page.evaluate(MEASURE, TOLERANCE)
            findings.pages += 1
            where = f"{url} ({size})"
            if seen["scrollWidth"] > seen["clientWidth"]:
                findings.problems.append(
                    f"{where}: {seen['scrollWidth']} px wide in a {seen['clientWidth']} px window"
                )
            findings.problems += [f"{where}: {overlap}" for overlap in seen["overlaps"]]
            findings.problems += [f"{where}: {error}" for error in errors]
            errors.clear()
    return findings


@pytest.mark.parametrize("state", list(State), ids=str)
def test_no_page_scrolls_sideways_or_overlaps_in_each_account_state(
    site: Site, window: Window, state: State
) -> None:
    person = site.people.make(state)
    site.people.clock.advance(seconds=PAST_STEP_UP)
    site.app = person.app
    walk = crawl(person.browser)
    urls = html_pages(walk)
    assert len(urls) > 3, urls
    window.page.context.clear_cookies()
    into_context(window.page.context, person, site.url)
    findings = look_at(window, urls)
    assert not findings.problems, "\n".join(findings.problems)


def test_no_page_scrolls_sideways_or_overlaps_for_a_visitor(site: Site, window: Window) -> None:
    """Signed out, half-way through a sign-up (a username chosen, so the choice of how to
    sign in opens too)."""
    site.app = site.people.app()
    visitor = Client(site.app.test_client())
    place(visitor, "DE")
    assert visitor.choose_username("visitor").status_code == 302
    walk = crawl(visitor, "/")
    for start in ("/signup/how", "/signin/recovery", "/signin/lost-passkey", "/privacy/manifest"):
        crawl(visitor, start, walk)
    urls = html_pages(walk)
    window.page.context.clear_cookies()
    name = site.app.config["SESSION_COOKIE_NAME"]
    cookie = visitor.client.get_cookie(name)
    assert cookie is not None
    window.page.context.add_cookies([{"name": name, "value": cookie.value, "url": site.url}])
    window.page.context.set_extra_http_headers({"X-Country": "DE"})
    findings = look_at(window, urls)
    assert "/signup/how" in urls
    assert not findings.problems, "\n".join(findings.problems)
