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

The crawl follows links, so it never reaches a page only a form leads to: an answer to a
POST (a form shown again with its error, the recovery codes, the goodbye page), which no
address opens again, or a step a POST redirects to (the authenticator key).
``test_no_page_reached_only_by_a_form_scrolls_sideways_or_overlaps`` sends those forms in
Chromium as a person does and measures each such page where it stands.

Before the design system (decision 0025), the sign-in, recovery, profile and password
pages and the privacy manifest (874 px) scrolled sideways on a phone, and the passkey
rename field and its button overlapped.

One server and one browser page serve the whole module (the ``site`` and ``window``
fixtures of tests/e2e/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import pytest
from playwright.sync_api import Page, expect

from authdemo.clock import FrozenClock
from tests.conftest import totp_code
from tests.support.accounts import COUNTRY_HEADER, State, into_context
from tests.support.live_site import Site, Window, as_person, as_visitor, problems_on

#: The two sizes of issue 17: a phone (iPhone 12 to 15) and a laptop.
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
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


def measured(page: Page, size: str, url: str) -> list[str]:
    """What is wrong with the page shown, at this size."""
    seen = page.evaluate(MEASURE, TOLERANCE)
    where = f"{url} ({size})"
    problems = [f"{where}: {overlap}" for overlap in seen["overlaps"]]
    if seen["scrollWidth"] > seen["clientWidth"]:
        problems.insert(
            0, f"{where}: {seen['scrollWidth']} px wide in a {seen['clientWidth']} px window"
        )
    return problems


def look_at(window: Window, urls: list[str]) -> list[str]:
    """Open each address at each size; what is wrong, per page and size."""
    problems: list[str] = []
    for size, viewport in VIEWPORTS.items():
        window.page.set_viewport_size(viewport)  # type: ignore[arg-type]
        problems += problems_on(window, urls, partial(measured, window.page, size))
    return problems


@pytest.mark.parametrize("state", list(State), ids=str)
def test_no_page_scrolls_sideways_or_overlaps_in_each_account_state(
    site: Site, window: Window, state: State
) -> None:
    problems = look_at(window, as_person(site, window, state))
    assert not problems, "\n".join(problems)


def test_no_page_scrolls_sideways_or_overlaps_for_a_visitor(site: Site, window: Window) -> None:
    """Signed out, half-way through a sign-up (a username chosen, so the choice of how to
    sign in opens too)."""
    problems = look_at(window, as_visitor(site, window))
    assert not problems, "\n".join(problems)


# --- pages only a form leads to ----------------------------------------------------------

#: A password the policy accepts.
PASSWORD = "purple tractor sings at dawn"


def press(page: Page, button: str) -> int:
    """Press a button that sends a form; the status of the page that answers it (after
    any redirect)."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None, button
    return response.status


@dataclass
class FormWalk:
    """Pages a person reaches only by sending a form: an answer to a POST (a form shown
    again with its error, the recovery codes, the goodbye page), which no address opens
    again, and a step a POST redirects to (the authenticator key), which the crawl of
    links never reaches. Each is measured where it stands, at each size: resizing lays
    the same document out again."""

    window: Window
    #: The status of the last page a form led to.
    status: int = 0
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def press(self, button: str) -> None:
        self.status = press(self.window.page, button)

    def look(self, what: str, status: int = 200) -> None:
        """Measure the page the last form sent shows; it must be the answer expected."""
        page, errors = self.window.page, self.window.errors
        assert self.status == status, f"{what}: answered {self.status}"
        page.wait_for_load_state("load")
        self.seen.append(what)
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)  # type: ignore[arg-type]
            self.problems += measured(page, size, what)
        # Chromium logs a document's own 4xx answer as a console error: that one is expected.
        expected = f"status of {status}"
        self.problems += [
            f"{what}: script error {error}"
            for error in errors
            if status < 400 or expected not in error
        ]
        errors.clear()


def test_no_page_reached_only_by_a_form_scrolls_sideways_or_overlaps(
    site: Site, window: Window
) -> None:
    site.app = site.people.app()
    page, clock = window.page, site.people.clock
    walk = FormWalk(window)
    page.context.clear_cookies()
    page.context.set_extra_http_headers({COUNTRY_HEADER: "DE"})
    window.errors.clear()

    # A visitor signs up with a password and a one-time code, getting each step wrong once,
    # and later mistypes their password.
    page.goto("/signup")
    page.fill("#username", "layoutvisitor")
    walk.press("#continue")
    walk.press("#use-password")
    page.fill("#password", "short")
    walk.press("#continue")
    walk.look("sign-up: password refused", 400)
    _password_and_code(page, clock, walk, "sign-up", "#continue", "#create-account")
    walk.press("#codes-saved")
    walk.press("#signout")
    page.fill("#username", "layoutvisitor")
    page.fill("#password", "not the password")
    page.fill("#code", "000000")
    walk.press("#signin-password")
    walk.look("sign-in refused", 401)

    # Someone with a passkey sets up a password and code, makes new codes, and leaves.
    person = site.people.make(State.PASSKEY_ONLY)
    site.app = person.app
    page.context.clear_cookies()
    into_context(page.context, person, site.url)
    page.goto("/account/password-code/setup")
    page.fill("#password", "short")
    walk.press("#continue")
    walk.look("set-up: password refused", 400)
    _password_and_code(page, clock, walk, "set-up", "#continue", "#finish-setup")
    page.goto("/account/password-code")
    walk.press("#regenerate-codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    walk.look("new recovery codes")
    page.goto("/privacy/delete")
    page.fill("#confirm_username", "someone else")
    walk.press("#confirm-delete")
    walk.look("deletion: wrong username", 422)
    page.fill("#confirm_username", person.username)
    walk.press("#confirm-delete")
    expect(page.locator("#goodbye")).to_be_visible()
    walk.look("goodbye")

    assert len(walk.seen) == 12, walk.seen
    assert not walk.problems, "\n".join(walk.problems)


def _password_and_code(
    page: Page, clock: FrozenClock, walk: FormWalk, what: str, send: str, finish: str
) -> None:
    """From a refused password on: a good one, the key, a wrong code, the right one, the
    recovery codes; each page looked at."""
    page.fill("#password", PASSWORD)
    walk.press(send)
    expect(page.locator("#totp-key")).to_be_visible()
    walk.look(f"{what}: the authenticator key")
    page.fill("#code", "000000")
    walk.press(finish)
    walk.look(f"{what}: code refused", 400)
    key = page.inner_text("#totp-key").replace(" ", "")
    page.fill("#code", totp_code(key, clock))
    walk.press(finish)
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    walk.look(f"{what}: recovery codes")
