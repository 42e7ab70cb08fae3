"""The language selector never offers a switch that cannot bring the person back to what
they were reading (decision 0028, issue 19 review).

The selector sends its choice and then brings the person back with a GET of the page's
address. A page that answers a POST cannot be shown again that way: the address may take
POST only (405), and a page shown once (the recovery codes) would be gone. So a page that
answers anything but a GET offers no selector, and says instead, in one line, that the
language can be changed on the next page.

The walk below is the invariant: every state-changing route in ``app.url_map`` (so a
route added tomorrow is walked too), sent by a visitor, by someone half-way through a
sign-up and by signed-in people, the way a browser sends it: the form the app's own page
offers for it (with something typed in its fields), the session's CSRF token alone when
no page offers one, and a form whose token has gone (a refused POST, answered with an
error page). Every HTML page among the answers is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app, totp_code
from tests.support.accounts import QUICK_HASHING, People, State, expect
from tests.support.crawler import crawl, endpoint_of, state_changing_routes
from tests.support.pages import Form, read_page

#: What Chromium sends with a form: it prefers HTML.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LATER = "You can change the language on the next page."
LATER_DE = "Die Sprache können Sie auf der nächsten Seite ändern."
#: Where a visitor's forms are (the layout walk starts from the same pages).
VISITOR_STARTS = ("/", "/signin", "/signup/how", "/signin/recovery", "/signin/lost-passkey")


@pytest.fixture
def people(tmp_path: Path, clock: FrozenClock) -> People:
    return People(
        lambda **more: make_app(tmp_path, clock, LANGUAGES="en,de", **QUICK_HASHING, **more),
        clock,
    )


# --- reading the footer --------------------------------------------------------------------


def selector(html: str) -> Form | None:
    """The language selector in the page's footer, as the browser would submit it."""
    forms = read_page("/", 200, html, region="footer").forms
    found = [form for form in forms if form.action == "/language"]
    return found[0] if found else None


def where_the_selector_leads(browser: Browser, form: Form, language: str = "de") -> str:
    """Choose ``language`` in the selector and follow the way back, as a person does."""
    chosen = browser.client.post(form.action, data={**form.values, "language": language})
    if chosen.status_code != 303:
        return f"the choice is answered {chosen.status_code}"
    back = chosen.headers["Location"]
    landed = browser.client.get(back)
    return f"back to GET {back}, answered {landed.status_code}"


def footer_problem(browser: Browser, html: str) -> str | None:
    """What is wrong with the footer of a page that answers a POST, if anything."""
    form = selector(html)
    if form is not None:
        return f"offers a language switch ({where_the_selector_leads(browser, form)})"
    if LATER not in html and LATER_DE not in html:
        return "offers no language switch and does not say where to change the language"
    return None


# --- sending every state-changing route ------------------------------------------------------


def forms_by_endpoint(app: Flask, browser: Browser, starts: tuple[str, ...]) -> dict[str, str]:
    """Which page offers the form for each POST endpoint (the first found), as a person
    sees the pages: every page reachable from ``starts``."""
    walk = crawl(browser, starts[0])
    for start in starts[1:]:
        crawl(browser, start, walk)
    found: dict[str, str] = {}
    for url, page in sorted(walk.pages.items()):
        for form in page.forms:
            endpoint = endpoint_of(app, form.action, form.method)
            if form.method == "POST" and endpoint is not None:
                found.setdefault(endpoint, url)
    return found


def typed_in(form: Form) -> dict[str, str]:
    """A form as the page sends it, with something (not necessarily right) in each field."""
    typed = {name: "x" for name, kind in form.fields.items() if kind not in ("checkbox", "radio")}
    return {**typed, **form.values}


def offered_form(app: Flask, browser: Browser, page_url: str | None, endpoint: str) -> Form | None:
    """The form for ``endpoint`` on the page that offers it, as this browser sees it now
    (its own CSRF token, its own passkey's id in the address)."""
    if page_url is None:
        return None
    response = browser.client.get(page_url)
    page = read_page(page_url, response.status_code, response.get_data(as_text=True))
    for form in page.forms:
        if form.method == "POST" and endpoint_of(app, form.action, "POST") == endpoint:
            return form
    return None


def path_for(app: Flask, rule: Rule) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, dict.fromkeys(rule.arguments, 1))


Answer = tuple[str, str, TestResponse]


def send_every_state_change(
    app: Flask, make: Callable[[], Browser], starts: tuple[str, ...]
) -> Iterator[tuple[Browser, Answer]]:
    """Each state-changing route, sent by a fresh copy of the same person whenever the
    previous request was accepted (a refused one changes nothing:
    test_refusals_change_nothing.py), so every route meets the person as they were."""
    browser = make()
    offered = forms_by_endpoint(app, browser, starts)
    for rule, method in state_changing_routes(app):
        form = offered_form(app, browser, offered.get(rule.endpoint), rule.endpoint)
        if form is not None:
            url, sent, how = form.action, typed_in(form), "as its page sends it"
        else:
            url, sent, how = path_for(app, rule), {"csrf_token": browser.csrf}, "token only"
        headers = {"Accept": BROWSER_ACCEPT}
        for label, data in ((how, sent), ("token gone", {"csrf_token": "stale"})):
            response = browser.client.open(url, method=method, data=data, headers=headers)
            yield browser, (rule.endpoint, f"{method} {url} ({label})", response)
            if response.status_code < 400:
                browser = make()


def signing_up(people: People) -> Browser:
    browser = people.browser()
    expect(browser.choose_username("newcomer"), 302)
    return browser


@dataclass(frozen=True)
class Who:
    make: Callable[[People], Browser]
    #: Where their pages start (a crawl from here finds the forms they are offered).
    starts: tuple[str, ...]
    #: Answers the walk must meet, or it proves little: (endpoint, status).
    must_reach: frozenset[tuple[str, int]]


def signed_in(state: State) -> Callable[[People], Browser]:
    return lambda people: people.make(state).browser


WHO = {
    "visitor": Who(
        People.browser,
        VISITOR_STARTS,
        # A form shown again with its errors, and a refused sign-in.
        frozenset({("signup.signup", 400), ("fallback.signin_password", 401)}),
    ),
    "signing-up": Who(signing_up, VISITOR_STARTS, frozenset({("fallback.signup_password", 400)})),
    "passkey-only": Who(
        signed_in(State.PASSKEY_ONLY),
        ("/account",),
        # The recovery codes, shown once; the erasure form shown again with its error.
        frozenset({("fallback.regenerate_codes", 200), ("privacy.delete_account", 422)}),
    ),
    "password-only": Who(
        signed_in(State.PASSWORD_ONLY),
        ("/account",),
        frozenset({("fallback.regenerate_codes", 200), ("fallback.remove", 409)}),
    ),
    "recovery": Who(
        signed_in(State.RECOVERY),
        ("/account",),
        frozenset({("fallback.setup", 400), ("sessions.signout", 400)}),
    ),
}


@pytest.mark.parametrize("who", WHO)
def test_no_page_that_answers_a_post_offers_a_language_switch_that_cannot_come_back(
    people: People, who: str
) -> None:
    app, person = people.app(), WHO[who]
    problems: list[str] = []
    reached: set[tuple[str, int]] = set()
    answers = send_every_state_change(app, lambda: person.make(people), person.starts)
    for browser, (endpoint, where, response) in answers:
        if response.mimetype != "text/html" or response.status_code in range(300, 400):
            continue  # not a page: JSON, a problem document or a redirect
        reached.add((endpoint, response.status_code))
        problem = footer_problem(browser, response.get_data(as_text=True))
        if problem:
            problems.append(f"{where} -> {response.status_code}: {problem}")
    # Guards the walk: had it met none of these, the test would pass vacuously.
    assert person.must_reach <= reached, sorted(person.must_reach - reached)
    assert not problems, "\n".join(problems)


# --- the pages shown once ------------------------------------------------------------------


_CODES = re.compile(r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>")


def assert_codes_page_keeps_the_codes(browser: Browser, response: TestResponse) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(_CODES.findall(html)) == 10, "not the recovery-codes page"
    assert footer_problem(browser, html) is None
    assert selector(html) is None


def test_the_recovery_codes_of_a_new_account_offer_no_switch_that_would_lose_them(
    people: People, clock: FrozenClock
) -> None:
    browser = people.browser()
    expect(browser.choose_username("robin"), 302)
    expect(browser.post_form("/signup/password", {"password": "purple tractor sings"}), 302)
    key = re.search(
        r'id="totp-key">([A-Z2-7 ]+)<', browser.client.get("/signup/password/code").text
    )
    assert key
    code = totp_code(key.group(1).replace(" ", ""), clock)
    answer = browser.post_form("/signup/password/code", {"code": code})
    assert_codes_page_keeps_the_codes(browser, answer)


def test_new_recovery_codes_offer_no_switch_that_would_lose_them(people: People) -> None:
    person = people.make(State.PASSWORD_ONLY)
    answer = person.browser.post_form("/account/recovery-codes", {})
    assert_codes_page_keeps_the_codes(person.browser, answer)


def test_the_codes_after_a_recovery_offer_no_switch_either_and_say_so_in_german(
    people: People, clock: FrozenClock
) -> None:
    person = people.make(State.RECOVERY)
    browser = person.browser
    html = browser.client.get("/account", follow_redirects=True).text
    form = selector(html)
    assert form is not None, "a page shown by a GET keeps its selector"
    expect(browser.client.post("/language", data={**form.values, "language": "de"}), 303)
    expect(browser.post_form("/account/password-code/setup", {"password": "new long secret"}), 302)
    key = re.search(
        r'id="totp-key">([A-Z2-7 ]+)<', browser.client.get("/account/password-code/confirm").text
    )
    assert key
    answer = browser.post_form(
        "/account/password-code/confirm", {"code": totp_code(key.group(1).replace(" ", ""), clock)}
    )
    assert_codes_page_keeps_the_codes(browser, answer)
    assert LATER_DE in answer.get_data(as_text=True)


def test_a_page_shown_by_a_get_keeps_its_selector(people: People) -> None:
    browser = people.browser()
    html = browser.client.get("/signin").text
    assert selector(html) is not None
    assert LATER not in html
