"""Every message a page's scripts may show is in the page's data block (docs/translating.md).

``message()`` in static/js/ui.js throws for a key the page did not send: a missing message
is a script error where the person should have read a sentence. Most such messages are
said only when something fails (a cancelled passkey, a refused clipboard), which the
browser tests reach for a few pages only; so this reads the modules instead. For each page
a person reaches (signed out, in a sign-up, and in each account state, by following the
pages' own links), the ES modules it loads and everything they import are searched for
``message("...")`` keys, and each key must be in the page's ``messages``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from authdemo import PROJECT_ROOT
from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.support.accounts import QUICK_HASHING, People, State, expect
from tests.support.crawler import crawl
from tests.support.pages import read_page

JS = PROJECT_ROOT / "static" / "js"
#: A call of ui.js's message(): the string literals in it are the keys it may ask for
#: (``message(show ? "hidePassword" : "showPassword")`` asks for either).
_CALL = re.compile(r"\bmessage\(([^()]*)\)")
_KEY = re.compile(r"\"([A-Za-z0-9_]+)\"")
_IMPORT = re.compile(r"\bfrom\s+\"\./([\w.-]+\.js)\"")


@cache
def keys_of(module: str) -> frozenset[str]:
    """The message keys ``module`` and the modules it imports may ask for."""
    source = (JS / module).read_text(encoding="utf-8")
    keys = {key for call in _CALL.findall(source) for key in _KEY.findall(call)}
    for imported in _IMPORT.findall(source):
        keys |= keys_of(imported)
    return frozenset(keys)


class _Modules(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.modules: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        src = a.get("src") or ""
        if tag == "script" and a.get("type") == "module" and src.startswith("/static/js/"):
            self.modules.append(Path(src.split("?", 1)[0]).name)


def modules_of(html: str) -> list[str]:
    parser = _Modules()
    parser.feed(html)
    return parser.modules


def test_the_search_finds_the_keys_a_module_asks_for() -> None:
    """Guards the search: with no keys found, the test below would pass vacuously."""
    assert {"showPassword", "hidePassword"} <= keys_of("password-fields.js")
    assert {"ceremonyNotFound", "followPrompt", "signedIn"} <= keys_of("signin.js")


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    folder, clock = tmp_path_factory.mktemp("scripts"), FrozenClock()
    return People(lambda **more: make_app(folder, clock, **QUICK_HASHING, **more), clock)


def _pages(people: People) -> Iterator[tuple[str, Browser, str]]:
    visitor = people.browser()
    for url in crawl(visitor, "/signin").pages:
        yield "signed out", visitor, url
    signing_up = people.browser()
    expect(signing_up.choose_username("sam"), 302)
    for url in ("/signup/how", "/signup/password"):
        yield "signing up", signing_up, url
    for state in State:
        person = people.make(state)
        urls = set(crawl(person.browser, "/account").pages)
        urls |= {"/reauth?next=/account&action=passkeys.add_options"}
        for url in sorted(urls):
            yield str(state), person.browser, url


def test_every_page_sends_every_message_its_scripts_may_show(people: People) -> None:
    missing = []
    pages = 0
    for who, browser, url in _pages(people):
        response = browser.client.get(url)
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        html = response.get_data(as_text=True)
        sent = set(read_page(url, 200, html).data.get("messages", {}))
        for module in modules_of(html):
            pages += 1
            for key in sorted(keys_of(module) - sent):
                missing.append(f"{who} {url}: {module} may ask for {key!r}")
    assert pages > 20, "too few pages with scripts: the walk found nothing to check"
    assert not missing, "\n".join(missing)
