"""The site header always matches the person's state (issue 17 item 9).

Every link the header shows must answer that person with the page itself (200), never a
redirect elsewhere: a signed-out visitor, each account state of tests/support/accounts.py
(on every page reachable from their account home, found by tests/support/crawler.py),
the account just created on its recovery-codes page, and the person whose recovery just
ended their restricted session.

Before the header was decided once per page (``authdemo.sessions.auth.header``), the
recovery-codes page after a password + code sign-up offered "Sign in" and "Create an
account" for an account that existed, and a recovery-code session was offered "Your
account" and "Your data", which only sent it back to set-up.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from tests.conftest import STRONG_PASSWORD, Browser, make_app, totp_code
from tests.support.accounts import QUICK_HASHING, People, State, expect
from tests.support.crawler import crawl
from tests.support.pages import read_page, site_path

_TOTP_KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')

#: What the header offers in each kind of state, by element id.
SIGNED_OUT = {"nav-home", "nav-signin", "nav-signup"}
SIGNED_IN = {"nav-home", "nav-account", "nav-privacy", "signout"}
RESTRICTED = {"nav-home", "nav-recover", "signout"}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    folder, clock = tmp_path_factory.mktemp("header"), FrozenClock()
    return People(lambda **more: make_app(folder, clock, **QUICK_HASHING, **more), clock)


def header_of(url: str, response: TestResponse) -> tuple[set[str], list[str]]:
    """The ids of the header's links and buttons, and where its links go."""
    html = response.get_data(as_text=True)
    header = read_page(url, response.status_code, html, region="header")
    ids = {link.id for link in header.links if link.id}
    ids |= {form.id for form in header.forms if form.id}
    targets = [path for link in header.links if (path := site_path(link.href)) is not None]
    return ids, targets


def bounces(browser: Browser, targets: list[str]) -> list[str]:
    """Header links that do not answer 200 with their own page."""
    answers = {target: browser.client.get(target) for target in targets}
    return [
        f"{target}: {answer.status_code} {answer.headers.get('Location', '')}"
        for target, answer in answers.items()
        if answer.status_code != 200
    ]


def test_a_visitor_is_offered_sign_in_and_sign_up_and_both_open(people: People) -> None:
    browser = people.browser()
    for url in ("/", "/signin", "/signup", "/privacy/notice"):
        ids, targets = header_of(url, expect(browser.client.get(url), 200))
        assert ids == SIGNED_OUT, url
        assert bounces(browser, targets) == [], url


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_header_link_opens_on_every_page_of_each_account_state(
    people: People, state: State
) -> None:
    person = people.make(state)
    walk = crawl(person.browser)
    pages = [url for url, page in walk.pages.items() if page.status == 200]
    pages = [url for url in pages if url not in walk.downloads]
    assert len(pages) > 1, pages
    expected = RESTRICTED if state is State.RECOVERY else SIGNED_IN
    for url in pages:
        response = person.browser.client.get(url)
        if response.status_code != 200:  # a one-time page (e.g. recovery codes shown once)
            continue
        ids, targets = header_of(url, response)
        assert ids == expected, f"{state} on {url}: {sorted(ids)}"
        assert bounces(person.browser, targets) == [], f"{state} on {url}"


def sign_up_with_password(browser: Browser, clock: FrozenClock, username: str) -> TestResponse:
    """The password + code sign-up up to the page its last step answers with."""
    expect(browser.choose_username(username), 302)
    expect(browser.post_form("/signup/password", {"password": STRONG_PASSWORD}), 302)
    page = expect(browser.client.get("/signup/password/code"), 200).get_data(as_text=True)
    match = _TOTP_KEY.search(page)
    assert match, "no key on the enrolment page"
    key = match.group(1).replace(" ", "")
    return browser.post_form("/signup/password/code", {"code": totp_code(key, clock)})


def test_the_new_account_is_signed_in_on_its_recovery_codes_page(people: People) -> None:
    browser = people.browser()
    codes_page = expect(sign_up_with_password(browser, people.clock, "newcomer"), 200)
    assert 'id="recovery-codes"' in codes_page.get_data(as_text=True)
    ids, targets = header_of("/signup/password/code", codes_page)
    assert ids == SIGNED_IN
    assert bounces(browser, targets) == []


def test_a_finished_recovery_shows_the_signed_out_header(people: People) -> None:
    """Setting up a new password + code from a recovery-code session ends that session:
    the page with the new codes says so, and its header offers signing in."""
    person = people.make(State.RECOVERY)
    browser = person.browser
    setup = browser.post_form("/account/password-code/setup", {"password": STRONG_PASSWORD})
    expect(setup, 302)
    page = expect(browser.client.get("/account/password-code/confirm"), 200)
    match = _TOTP_KEY.search(page.get_data(as_text=True))
    assert match, "no key on the enrolment page"
    code = totp_code(match.group(1).replace(" ", ""), people.clock)
    codes_page = expect(browser.post_form("/account/password-code/confirm", {"code": code}), 200)
    ids, targets = header_of("/account/password-code/confirm", codes_page)
    assert ids == SIGNED_OUT
    assert bounces(browser, targets) == []
