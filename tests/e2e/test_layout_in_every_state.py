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
Chromium as a person does (tests/support/form_walk.py) and measures each such page where
it stands.

Before the design system (decision 0025), the sign-in, recovery, profile and password
pages and the privacy manifest (874 px) scrolled sideways on a phone, and the passkey
rename field and its button overlapped.

One server and one browser page serve the whole module (the ``site`` and ``window``
fixtures of tests/e2e/conftest.py).
"""

from __future__ import annotations

from functools import partial

import pytest
from playwright.sync_api import Page

from tests.support.accounts import State
from tests.support.form_walk import walk_the_forms
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


def test_no_page_reached_only_by_a_form_scrolls_sideways_or_overlaps(
    site: Site, window: Window
) -> None:
    page = window.page

    def at_each_size(what: str) -> list[str]:
        # Resizing lays the same document out again: the page is measured where it stands.
        problems: list[str] = []
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)  # type: ignore[arg-type]
            problems += measured(page, size, what)
        return problems

    walk = walk_the_forms(site, window, at_each_size)
    assert not walk.problems, "\n".join(walk.problems)
