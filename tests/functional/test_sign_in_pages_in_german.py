"""The sign-in side of the app in German (issue 19 item 1): sign-in, sign-up, password +
code, recovery, "Confirm it's you" and the sessions page, as a person whose browser asks
for German gets them (``Accept-Language``, the way Chromium sends it for a German user).

Two invariants over every such page, in each account state that reaches it:

- no message of the German catalogue appears in English, in the page's visible text, in
  the attributes a screen reader or a tooltip reads (``alt``, ``aria-label``, ``title``,
  ``placeholder``), or in the messages its ES modules show (the page's data block);
- no text node reads the same in English and in German unless it is a name, a code, a
  number or a word German shares (a short allow-list, each entry explained): this catches
  a string nobody marked for translation, which the catalogue cannot know about.

The second check leaves out the parts of these pages that other templates and modules
make, each checked where it is made and all of them together by the German crawl of
every page (tests/e2e): the pinned consent notice (its German text is a pinned version of
its own, authdemo/consent/notices.py), the opt-in box and its reminder (consent/), the
account page's back link (account/_back.html) and dates (authdemo/human_units.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import STRONG_PASSWORD, Browser, make_app
from tests.support.accounts import QUICK_HASHING, People, Person, State, expect
from tests.support.catalogues import entries, po_file
from tests.support.pages import read_page

#: What Chromium sends for a person who set German as their language.
GERMAN_BROWSER = "de-DE,de;q=0.9,en;q=0.8"
ENGLISH_BROWSER = "en-GB,en;q=0.9"

#: Text nodes that read the same in both languages, and why that is right.
SAME_IN_BOTH = {
    "authdemo",  # the brand (RP_NAME in the tests)
    "Passkey",  # German uses the English word (glossary)
    "(optional)",  # the same word in German
    "·",  # the footer's separator
    ".",  # a sentence's full stop after a link
    ",",  # a comma before a link
    # The footer's language selector names each language in itself (decision 0028).
    "Deutsch",
    "English",
}


def _in_language(browser: Browser, accept_language: str) -> Browser:
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return browser


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    folder, clock = tmp_path_factory.mktemp("german"), FrozenClock()
    return People(
        lambda **more: make_app(folder, clock, **QUICK_HASHING, LANGUAGES="en,de", **more), clock
    )


# --- reading a page as a person does ---------------------------------------------------


class _Text(HTMLParser):
    """Visible text nodes and read-aloud attributes (the time-out dialog's included: it
    is shown to people), without scripts and styles, and, if asked, without the parts
    other templates make (:func:`_made_elsewhere`)."""

    READ_ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")

    def __init__(self, *, skip_others: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self.data_block = ""
        self._skip_others = skip_others
        self._hidden = 0  # inside <script>/<style>, or a part skipped
        self._stack: list[bool] = []
        self._in_data = False
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "script" and a.get("id") == "page-data":
            self._in_data = True
        hides = tag in ("script", "style") or (self._skip_others and _made_elsewhere(tag, a))
        if tag not in _VOID:
            self._stack.append(hides)
            self._hidden += hides
        if not self._hidden:
            self.nodes.extend(" ".join(a[k].split()) for k in self.READ_ATTRIBUTES if a.get(k))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data = False
        if tag not in _VOID and self._stack:
            self._hidden -= self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data_block += data
        elif not self._hidden and data.strip():
            self.nodes.append(" ".join(data.split()))


_VOID = frozenset({"meta", "link", "input", "img", "br", "hr", "source", "area", "col", "wbr"})


def _messages_in(data: Any) -> Iterator[str]:
    """The strings of the data block's ``messages`` (what the ES modules show)."""
    messages = data.get("messages", {}) if isinstance(data, dict) else {}
    for value in messages.values():
        if isinstance(value, str):
            yield value


def _made_elsewhere(tag: str, attrs: dict[str, str]) -> bool:
    """The parts the module docstring lists, which this file does not own."""
    classes = attrs.get("class", "").split()
    return (
        "consent-notice" in classes  # the pinned notice
        or (tag == "label" and attrs.get("for") == "passkey-consent")  # the opt-in box
        or attrs.get("id") in ("consent-hint", "consent-reminder")
        or (tag == "p" and "back" in classes)  # account/_back.html
        or tag == "time"  # authdemo/human_units.py
    )


def read(html: str, *, skip_others: bool = False) -> tuple[str, list[str]]:
    parser = _Text(skip_others=skip_others)
    parser.feed(html)
    data = json.loads(parser.data_block or "{}")
    return parser.lang, parser.nodes + list(_messages_in(data))


# --- the German catalogue ---------------------------------------------------------------


def _pattern(msgid: str) -> re.Pattern[str] | None:
    """The English message as it can appear on a page: markup gone, each placeholder any
    text. None for a message with too few words of its own to tell (a date pattern,
    "%(name)s from %(day)s")."""
    text = re.sub(r"<[^>]+>", "", msgid)
    parts = re.split(r"%\(\w+\)[sd]", text)
    if sum(len(re.sub(r"[^A-Za-z]", "", part)) for part in parts) < 6:
        return None
    words = [r"\s+".join(map(re.escape, part.split())) for part in parts]
    return re.compile(r"\s*.+?\s*".join(words))


def _english_messages() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for entry in entries(po_file("de")):
        for msgid in entry.english:
            pattern = _pattern(msgid)
            if pattern is not None and msgid not in entry.translated:
                found.append((msgid, pattern))
    return found


ENGLISH = _english_messages()


def english_left_in(nodes: list[str]) -> list[str]:
    """English messages found in the text nodes, each with the node it was found in."""
    return [
        f"{msgid!r} in {node!r}"
        for node in nodes
        for msgid, pattern in ENGLISH
        if pattern.fullmatch(node) or (len(msgid) > 20 and pattern.search(node))
    ]


# --- the pages, in each state that reaches them -----------------------------------------


def _signed_out_pages(people: People) -> Iterator[tuple[str, Browser, str]]:
    browser = people.browser()
    for url in ("/signin", "/signin?signed_out=1", "/signup", "/signin/recovery"):
        yield url, browser, url
    yield "/signin/lost-passkey", browser, "/signin/lost-passkey"
    chosen = people.browser()
    expect(chosen.choose_username("gerda"), 302)
    for url in ("/signup/how", "/signup/password"):
        yield url, chosen, url
    expect(chosen.post_form("/signup/password", {"password": STRONG_PASSWORD}), 302)
    yield "/signup/password/code", chosen, "/signup/password/code"


def _signed_in_pages(person: Person) -> Iterator[tuple[str, Browser, str]]:
    name = f"{person.state} "
    browser = person.browser
    if person.state is State.RECOVERY:
        # A restricted session sees only the way to set up a new way in.
        for url in ("/account/recover", "/account/password-code/setup"):
            yield name + url, browser, url
        return
    for url in ("/account/sessions", "/account/password-code"):
        yield name + url, browser, url
    if person.state is State.PASSWORD_ONLY:
        # Signed in a moment ago: setting up a new authenticator app needs no step-up.
        yield name + "/account/password-code/setup", browser, "/account/password-code/setup"
    for action in ("fallback.setup", "privacy.delete_account", "consent.withdraw", "nothing"):
        url = f"/reauth?next=/account&action={action}"
        yield f"{name}{url}", browser, url


#: Each reaches a variant of "Confirm it's you": password + code, both ways, a restricted
#: session, no way in with recovery codes left, passkeys switched off (the passkey still
#: confirms), no way in after withdrawing.
PEOPLE_STATES = (
    State.PASSWORD_ONLY,
    State.BOTH,
    State.RECOVERY,
    State.NO_WAY_IN,
    State.SWITCHED_OFF,
    State.WITHDRAWN,
)


@pytest.fixture(scope="module")
def pages(people: People) -> list[tuple[str, str, str]]:
    """(name, English html, German html) of every page this file covers. Each is fetched
    twice in a row by the same person, once as an English and once as a German browser."""
    found = []
    sources = list(_signed_out_pages(people))
    for state in PEOPLE_STATES:
        sources.extend(_signed_in_pages(people.make(state)))
    for name, browser, url in sources:
        english = expect(_in_language(browser, ENGLISH_BROWSER).client.get(url), 200)
        german = expect(_in_language(browser, GERMAN_BROWSER).client.get(url), 200)
        found.append((name, english.get_data(as_text=True), german.get_data(as_text=True)))
    return found


def test_every_sign_in_page_is_served_in_german_with_no_english_message_left(
    pages: list[tuple[str, str, str]],
) -> None:
    problems = []
    for name, _english, german in pages:
        lang, nodes = read(german)
        if lang != "de":
            problems.append(f"{name}: <html lang={lang!r}>")
        problems.extend(f"{name}: {found}" for found in english_left_in(nodes))
    assert not problems, "\n".join(problems)


def test_no_text_on_the_sign_in_pages_reads_the_same_in_english_and_german(
    pages: list[tuple[str, str, str]], people: People
) -> None:
    """A text node that does not change with the language was never marked (or is a
    name or a code, which the allow-list and the person's own values cover)."""
    own = {"gerda", *(p for p in people.app().extensions["authdemo.settings"].RP_NAME.split())}
    problems = []
    for name, english, german in pages:
        _, english_nodes = read(english, skip_others=True)
        _, german_nodes = read(german, skip_others=True)
        for node in sorted(set(english_nodes) & set(german_nodes)):
            if node in SAME_IN_BOTH or node in own or not re.search(r"[A-Za-z]{2}", node):
                continue
            if _is_a_name_or_code(node):
                continue
            problems.append(f"{name}: {node!r}")
    assert not problems, "\n".join(problems)


def _is_a_name_or_code(node: str) -> bool:
    """Usernames the people were given, the key of an authenticator app, recovery codes,
    and dates written with digits only."""
    return bool(
        re.fullmatch(r"[a-z0-9._-]+", node)  # a username
        or re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", node)  # an authenticator key
        or re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", node)  # a recovery code
    )


# --- what a German person reads when something goes wrong -------------------------------


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(tmp_path, clock, LANGUAGES="en,de", **QUICK_HASHING)


@pytest.fixture
def german(app: Flask) -> Browser:
    return _in_language(Browser(app.test_client()), GERMAN_BROWSER)


def text_of(html: str) -> str:
    return " ".join(read(html)[1])


def test_a_username_that_breaks_a_rule_is_explained_in_german(german: Browser) -> None:
    page = german.choose_username("jörg")
    assert page.status_code == 400
    text = text_of(page.get_data(as_text=True))
    assert (
        "Ein Benutzername darf keine Akzente enthalten („ö“): Verwenden Sie stattdessen o. "
        "Ihren Namen in jeder Schrift können Sie als Anzeigenamen angeben."
    ) in text
    assert "accents" not in text


def test_sign_in_fields_left_empty_are_named_in_german(german: Browser) -> None:
    empty = german.post_form("/signin/password", {"username": "", "password": "", "code": ""})
    assert empty.status_code == 400
    text = text_of(empty.get_data(as_text=True))
    for message in (
        "Geben Sie Ihren Benutzernamen ein.",
        "Geben Sie Ihr Passwort ein.",
        "Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.",
    ):
        assert message in text
    assert "Enter your" not in text


def test_choosing_deutsch_in_the_footer_turns_the_pages_german(
    app: Flask, clock: FrozenClock
) -> None:
    """The selector, as a person uses it: an English browser, the footer's form on the
    password + code page, back on the same page in German, and German after signing out."""
    person = _in_language(Browser(app.test_client()), ENGLISH_BROWSER)
    person.sign_up_with_password(clock, "gerda")
    page = person.client.get("/account/password-code").get_data(as_text=True)
    assert read(page)[0] == "en"
    [form] = [
        f for f in read_page("/", 200, page, region="footer").forms if f.id == "language-form"
    ]

    chosen = person.client.post(form.action, data={**form.values, "language": "de"})

    assert chosen.status_code in (302, 303)
    assert chosen.headers["Location"].endswith("/account/password-code")
    again = person.client.get("/account/password-code").get_data(as_text=True)
    lang, nodes = read(again)
    assert lang == "de"
    assert "Passwort und Einmalcode" in nodes
    assert not english_left_in(nodes)
    person.sign_out()
    lang, nodes = read(person.client.get("/signin").get_data(as_text=True))
    assert lang == "de"
    assert not english_left_in(nodes)


def test_a_wrong_password_or_code_is_said_in_german(german: Browser, clock: FrozenClock) -> None:
    """The one answer for every sign-in failure (no hint whether the account exists), and
    the set-up's wrong code, in German."""
    made = german.sign_up_with_password(clock, "gerda")
    german.sign_out()
    wrong = german.sign_in_with_password(made, clock, password="not the password")
    assert wrong.status_code == 401
    assert (
        "Benutzername, Passwort oder Code stimmen nicht. Bitte versuchen Sie es erneut."
        in text_of(wrong.get_data(as_text=True))
    )
    unknown = german.sign_in_with_password(made, clock, username="nobody")
    assert text_of(unknown.get_data(as_text=True)) == text_of(wrong.get_data(as_text=True))

    german.choose_username("hanna")
    german.post_form("/signup/password", {"password": STRONG_PASSWORD})
    refused = german.post_form("/signup/password/code", {"code": "000000"})
    assert refused.status_code == 400
    assert (
        "Dieser Code stimmt nicht. Prüfen Sie die Uhrzeit auf Ihrem Smartphone und versuchen "
        "Sie es mit dem neuesten Code."
    ) in text_of(refused.get_data(as_text=True))


def test_the_age_declaration_is_asked_and_refused_in_german(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """With a minimum age set (off by default), the box and its refusal speak German."""
    app = make_app(tmp_path, clock, LANGUAGES="en,de", MINIMUM_AGE="16")
    german = _in_language(Browser(app.test_client()), GERMAN_BROWSER)
    page = text_of(german.client.get("/signup").get_data(as_text=True))
    assert "Ich bin 16 Jahre oder älter." in page
    assert "Dieser Dienst ist nicht für Kinder gedacht." in page

    refused = german.choose_username("gerda")

    assert refused.status_code == 400
    text = text_of(refused.get_data(as_text=True))
    assert (
        "Dieser Dienst ist für Personen ab 16 Jahren. Bitte setzen Sie das Häkchen, um Ihr "
        "Alter zu bestätigen."
    ) in text
    assert not english_left_in(read(refused.get_data(as_text=True))[1])


def test_a_json_step_without_a_username_answers_in_german(german: Browser) -> None:
    """problem+json from the passkey sign-up, for a page that lost its sign-up cookie."""
    answer = german.post_json("/api/passkeys/sign-up/options", {"consent": True})
    assert answer.status_code == 400
    problem = answer.get_json()
    assert problem["detail"] == "Bitte wählen Sie zuerst einen Benutzernamen."


def test_the_passkey_a_german_person_makes_is_named_in_german(
    german: Browser, authenticator: Any, app: Flask
) -> None:
    """The default name is the person's own from then on: made in German, it is German."""
    assert german.sign_up_with_passkey(authenticator, "gerda").status_code == 200
    page = german.client.get("/account/passkeys").get_data(as_text=True)
    assert re.search(r"Passkey vom \d{1,2}\. \w+\.? \d{4}", text_of(page))
