"""The pages a person reaches only by sending a form, walked in Chromium as a person walks
them: an answer to a POST (a form shown again with its error, the recovery codes, the
goodbye page), which no address opens again, and a step a POST redirects to (the
authenticator key). The crawl of links (tests/support/crawler.py) never reaches them, so the
e2e walks over every page (layout, German) walk these too, each with its own look at a page.

Every control is found by its id, so the same walk runs in any language; with ``language``
the person first picks it with the footer's selector, as anyone does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

from authdemo.clock import FrozenClock
from tests.conftest import totp_code
from tests.support.accounts import COUNTRY_HEADER, State, into_context
from tests.support.languages import choose_language
from tests.support.live_site import Site, Window

#: A password the policy accepts.
PASSWORD = "purple tractor sings at dawn"
#: How many pages :func:`walk_the_forms` looks at.
PAGES = 12


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
    """Where the walk is: ``read`` says what is wrong with the page a form led to (named
    by what it is), where it stands, since no address opens it again."""

    window: Window
    read: Callable[[str], list[str]]
    #: The status of the last page a form led to.
    status: int = 0
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def press(self, button: str) -> None:
        self.status = press(self.window.page, button)

    def look(self, what: str, status: int = 200) -> None:
        """Look at the page the last form sent; it must be the answer expected."""
        page, errors = self.window.page, self.window.errors
        assert self.status == status, f"{what}: answered {self.status}"
        page.wait_for_load_state("load")
        self.seen.append(what)
        self.problems += self.read(what)
        # Chromium logs a document's own 4xx answer as a console error: that one is expected.
        expected = f"status of {status}"
        self.problems += [
            f"{what}: script error {error}"
            for error in errors
            if status < 400 or expected not in error
        ]
        errors.clear()


def walk_the_forms(
    site: Site, window: Window, read: Callable[[str], list[str]], language: str | None = None
) -> FormWalk:
    """A visitor signs up with a password and a one-time code, getting each step wrong
    once, and later mistypes their password; someone with a passkey sets up a password
    and code, makes new recovery codes, and deletes the account. Each page only a form
    leads to is read; the walk, with what was seen and found, is returned."""
    site.app = site.people.app()
    page, clock = window.page, site.people.clock
    walk = FormWalk(window, read)
    page.context.clear_cookies()
    page.context.set_extra_http_headers({COUNTRY_HEADER: "DE"})
    window.errors.clear()

    page.goto("/signup")
    if language:
        choose_language(page, language)
    page.fill("#username", "formvisitor")
    walk.press("#continue")
    walk.press("#use-password")
    page.fill("#password", "short")
    walk.press("#continue")
    walk.look("sign-up: password refused", 400)
    _password_and_code(page, clock, walk, "sign-up", "#continue", "#create-account")
    walk.press("#codes-saved")
    walk.press("#signout")
    page.fill("#username", "formvisitor")
    page.fill("#password", "not the password")
    page.fill("#code", "000000")
    walk.press("#signin-password")
    walk.look("sign-in refused", 401)

    person = site.people.make(State.PASSKEY_ONLY)
    site.app = person.app
    page.context.clear_cookies()
    into_context(page.context, person, site.url)
    page.goto("/account/password-code/setup")
    if language:
        choose_language(page, language)
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

    assert len(walk.seen) == PAGES, walk.seen
    return walk


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
