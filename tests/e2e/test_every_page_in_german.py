"""Every page in German, in every account state and signed out: no English a person would
read is left (issue 19 item 2).

The person switches to German with the language selector in the footer, as anyone does;
then every page the crawler reaches for them (tests/support/crawler.py, the people of
tests/support/accounts.py; the step-up window passed, so "Confirm it's you" is among them)
is opened in Chromium. On each page every visible text node, the title, and the labels a
screen reader reads (``aria-label``, ``placeholder``, ``title``, ``alt``, a button's value)
are compared with the German catalogue: a text that is an English message (or holds a
sentence of one) whose German differs was not translated. What the catalogue's German
leaves as it is (brand and product names, "Passkey") is never a finding, nor is a part the
page marks as in another language (``lang="en"``, WCAG 3.1.2 Language of Parts).

The pages only a form leads to (an answer to a POST, the authenticator key) are walked
by sending the forms, as in the layout test (tests/support/form_walk.py).

Strings the code never marked are not in the catalogue, so this cannot see them directly;
it sees them when they share a sentence with a marked one, and the axe checks run in
German too (tests/e2e/test_accessibility.py).
"""

from __future__ import annotations

import re
from functools import cache, partial

import pytest

from tests.support.accounts import State
from tests.support.catalogues import entries, po_file
from tests.support.form_walk import walk_the_forms
from tests.support.languages import SECOND_LANGUAGE, choose_language
from tests.support.live_site import Site, Window, as_person, as_visitor, problems_on

#: A part of a message between its placeholders counts on its own from this many words:
#: shorter parts ("at", "of the") are in German sentences too, by chance or as names.
MIN_FRAGMENT_WORDS = 3
#: English messages a German page may show, each for a reason. Keep it small.
ALLOWED: frozenset[str] = frozenset()

#: Runs in the page: what a person reads or hears, as a list of texts.
READ = """() => {
  const page = document.documentElement.lang;
  // A part marked as in another language (WCAG 3.1.2), such as a notice not yet published
  // in German, shown in English and saying so, is not the page's own text.
  const own = (el) => (el.closest("[lang]") || document.documentElement).lang === page;
  const seen = (el) => el && own(el)
    && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("script, style, template")) continue;
    if (seen(node.parentElement)) texts.push(node.textContent);
  }
  const labelled = "[aria-label], [placeholder], [title], [alt], "
    + "input[type=submit], input[type=button]";
  for (const el of document.body.querySelectorAll(labelled)) {
    if (!seen(el)) continue;
    for (const name of ["aria-label", "placeholder", "title", "alt"]) {
      if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
    }
    if (el.matches("input[type=submit], input[type=button]")) texts.push(el.value);
  }
  return texts;
}"""


def _words(text: str) -> str:
    return " ".join(text.split())


@cache
def english_messages() -> tuple[frozenset[str], tuple[str, ...]]:
    """From the German catalogue, each English message translated differently: the whole
    messages, and their parts between placeholders long enough to stand on their own."""
    whole: set[str] = set()
    parts: set[str] = set()
    for entry in entries(po_file(SECOND_LANGUAGE)):
        for english in entry.english:
            if english in entry.translated or english in ALLOWED:
                continue
            whole.add(_words(english))
            for part in re.split(r"%\(\w+\)[sd]|%[sd]", english):
                part = _words(part).strip(" .,:;")
                if len(part.split()) >= MIN_FRAGMENT_WORDS:
                    parts.add(part)
    return frozenset(whole), tuple(sorted(parts))


def english_here(window: Window, where: str) -> list[str]:
    """The English on the page the window shows (named ``where``)."""
    whole, parts = english_messages()
    page = window.page
    assert page.get_attribute("html", "lang") == SECOND_LANGUAGE, where
    found: list[str] = []
    for text in map(_words, page.evaluate(READ)):
        if not text:
            continue
        if text in whole:
            found.append(f"{where}: {text!r}")
            continue
        found += [f"{where}: {part!r} in {text[:80]!r}" for part in parts if part in text]
    return found


def english_on(window: Window, urls: list[str]) -> list[str]:
    """Open each page; the English found on it."""
    return sorted(set(problems_on(window, urls, partial(english_here, window))))


def test_the_check_finds_english(site: Site, window: Window) -> None:
    """Guards the check: the catalogue gives it English to look for, and an English page
    (the language chosen back) is full of it."""
    whole, parts = english_messages()
    assert "Skip to main content" in whole
    assert any(p.startswith("This site lets you sign in with a") for p in parts)
    site.app = site.people.app()
    window.page.context.clear_cookies()
    window.page.goto("/")
    choose_language(window.page, "en")
    texts = {_words(t) for t in window.page.evaluate(READ)}
    assert "Skip to main content" in texts


def test_every_signed_out_page_is_in_german(site: Site, window: Window) -> None:
    """Signed out, half-way through a sign-up (a username chosen, so the choice of how to
    sign in opens too)."""
    urls = as_visitor(site, window)
    window.page.goto("/")
    choose_language(window.page, SECOND_LANGUAGE)
    english = english_on(window, urls)
    assert not english, "\n".join(english)


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_page_of_each_account_state_is_in_german(
    site: Site, window: Window, state: State
) -> None:
    urls = as_person(site, window, state)
    window.page.goto(urls[0])
    choose_language(window.page, SECOND_LANGUAGE)
    english = english_on(window, urls)
    assert not english, "\n".join(english)


def test_every_page_only_a_form_leads_to_is_in_german(site: Site, window: Window) -> None:
    """The answers to a POST (a refused password or code, the recovery codes shown once, a
    refused sign-in, the deletion's wrong username, the goodbye page) and the authenticator
    key, which the crawl of links never reaches, for a person who chose German on the first
    page of each walk: the choice holds through signing up, out and in, and deleting."""
    walk = walk_the_forms(site, window, partial(english_here, window), SECOND_LANGUAGE)
    assert not walk.problems, "\n".join(walk.problems)
