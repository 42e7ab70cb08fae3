"""The account, consent, privacy and problem-report pages in German (issue 19 item 1).

Met as a person meets them: a browser that asks for German (``Accept-Language``, sent
with every request), in every account state a person can get into (tests/support/
accounts.py), on the pages that state reaches. The operator offers German
(``AUTHDEMO_LANGUAGES=en,de``), as a deployment does once every page is translated.

"The English is gone" is read from outside the code: the English of every message these
pages mark (the msgids in the shipped German catalogue, from the templates and modules
of these pages) must not appear in the text a person sees or hears (text, ``aria-label``,
``title``, ``placeholder``, ``alt``), wherever its German differs. A string left
unmarked, a translation missing from the catalogue, or a page rendered in English all
fail it. The consent notice itself is left out: its German is a pinned text of its own
(authdemo/consent/notices.py), not a catalogue message.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from authdemo.clock import FrozenClock
from tests.conftest import make_app
from tests.support.accounts import QUICK_HASHING, People, Person, State, find_form, submit
from tests.support.catalogues import entries, po_file

GERMAN = "de-DE,de;q=0.9,en;q=0.4"

#: Where the messages of these pages live (their templates, and the modules whose
#: messages they show: flashes, field errors, security notices, problem categories).
OURS = (
    "templates/account.html",
    "templates/account/",
    "templates/consent/",
    "templates/privacy/",
    "templates/pilot/",
    "authdemo/account/",
    "authdemo/consent/",
    "authdemo/privacy/",
    "authdemo/pilot/",
    "authdemo/receipts/",
    "authdemo/compliance/privacy_notice.py",
)

#: The pages, and a German heading each must show. /privacy/delete and the pages that
#: need a recent sign-in are reached as the person would (a fresh sign-up is recent).
PAGES = {
    "/account": "Passkey-Anmeldung",
    "/account/passkeys": "Ihre Passkeys",
    "/account/profile": "Ihr Profil",
    "/account/passkeys/consent": "Ihre bisherigen Entscheidungen",
    "/privacy": "Ihre Daten",
    "/privacy/delete": "Ihr Konto löschen",
    "/privacy/notice": "Datenschutzhinweise",
    "/report-a-problem": "Problem melden",
}

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


def english_fragments() -> set[str]:
    """The English a German page must not show: the literal runs of each of our msgids
    (split at placeholders and markup) of two words or more, where German differs."""
    fragments: set[str] = set()
    for entry in entries(po_file("de")):
        if not any(path.startswith(OURS) for path, _ in entry.locations):
            continue
        for english, german in zip(entry.english, entry.translated, strict=False):
            if english == german:
                continue
            for run in _PLACEHOLDER.split(english):
                run = " ".join(run.split()).strip(" .,:;()")
                if len(run.split()) >= 2:
                    fragments.add(run)
    return fragments


class _Visible(HTMLParser):
    """What a person sees or hears on a page, outside scripts and the pinned notice (whose
    title the opt-in box quotes: that quote is the notice's words, so it is left out)."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.notice_titles: list[str] = []
        self._skip: list[str] = []
        self._in_title = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "html":
            self.lang = values.get("lang") or ""
        if "consent-notice-title" in classes:
            self._in_title += 1
            self.notice_titles.append("")
        if self._skip or tag in {"script", "style"} or "consent-notice" in classes:
            self._skip.append(tag)
            return
        self.parts.extend(v for k, v in attrs if k in self.SPOKEN and v)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        if self._in_title and tag in {"h2", "h3"}:
            self._in_title -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.notice_titles[-1] += data
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> tuple[str, str]:
    """(the ``<html lang>``, the visible text with its whitespace squashed)."""
    parser = _Visible()
    parser.feed(html)
    text = " ".join(unescape(" ".join(parser.parts)).split())
    for title in parser.notice_titles:
        text = text.replace(f"„{' '.join(unescape(title).split())}“", "„…“")
    return parser.lang, text


def read_in_german(person: Person, url: str) -> tuple[str, str, str]:
    response = person.browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    lang, text = visible(response.get_data(as_text=True))
    return response.request.path, lang, text


def assert_no_english(text: str, where: str) -> None:
    left = sorted(f for f in english_fragments() if f in text)
    assert not left, f"English on the German {where}: {left}"


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> People:
    folder = tmp_path_factory.mktemp("german")
    clock = FrozenClock()
    return People(
        lambda **more: make_app(folder, clock, LANGUAGES="en,de", **QUICK_HASHING, **more), clock
    )


def german(person: Person) -> Person:
    """The person's browser asks for German from now on. A message flashed while it
    still asked for English (making the state) was written in English, as it would be for
    anyone who changes language with a message pending: it is read once, first."""
    person.browser.client.get("/privacy/notice")
    person.browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = GERMAN
    return person


def test_the_catalogue_gives_these_pages_enough_english_to_look_for() -> None:
    # The invariant below is only as good as the list it reads: every page here marks
    # dozens of sentences (guards against an empty or misread catalogue).
    assert len(english_fragments()) > 200


@pytest.mark.parametrize("state", list(State), ids=str)
def test_every_page_of_every_account_state_is_in_german(people: People, state: State) -> None:
    person = german(people.make(state))
    for url, heading in PAGES.items():
        path, lang, text = read_in_german(person, url)
        if path != url:
            continue  # this state is sent elsewhere (a restricted session, a step-up)
        assert lang == "de", url
        assert heading in text, (url, text[:300])
        assert_no_english(text, f"{url} ({state})")


def test_choosing_deutsch_in_the_footer_turns_these_pages_german(people: People) -> None:
    # The other way a person gets German: the language selector on every page, with a
    # browser that asks for English. The choice stays for the pages that follow.
    person = people.make(State.PASSKEY_ONLY)
    person.browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    # The footer's form, as the page renders it (outside <main>, so read here).
    page = person.browser.client.get("/privacy").get_data(as_text=True)
    assert 'action="/language"' in page
    assert '<option value="de" lang="de">Deutsch</option>' in page
    chosen = person.browser.post_form("/language", {"language": "de", "next": "/privacy"})
    assert chosen.status_code == 303
    assert chosen.headers["Location"].endswith("/privacy")
    for url, heading in PAGES.items():
        path, lang, text = read_in_german(person, url)
        if path != url:
            continue
        assert lang == "de", url
        assert heading in text, url
        assert_no_english(text, f"{url} (chosen in the footer)")


def test_flash_messages_and_field_errors_are_in_german(people: People) -> None:
    person = german(people.make(State.PASSKEY_ONLY))
    page = person.browser.client.get("/account/passkeys").get_data(as_text=True)
    rename = re.search(r'action="(/account/passkeys/\d+/name)"', page)
    assert rename
    renamed = person.browser.post_form(
        rename.group(1), {"name": "Arbeitslaptop", "next": "/account/passkeys"}
    )
    assert renamed.status_code == 302
    _, _, text = read_in_german(person, renamed.headers["Location"])
    assert "Ihr Passkey heißt jetzt „Arbeitslaptop“." in text

    refused = person.browser.post_form("/report-a-problem", {"text": "Etwas ging schief"})
    assert refused.status_code == 400
    lang, text = visible(refused.get_data(as_text=True))
    assert lang == "de"
    assert "Bitte wählen Sie, worum es bei dem Problem geht." in text
    assert_no_english(text, "refused report")

    sent = person.browser.post_form(
        "/report-a-problem", {"category": "unclear", "text": "Etwas ging schief"}
    )
    assert sent.status_code == 302
    _, _, text = read_in_german(person, sent.headers["Location"])
    assert "Danke. Ihre Meldung ist bei uns angekommen." in text
    # The report, as the privacy page lists it: the category in German too.
    _, _, text = read_in_german(person, "/privacy")
    assert "Etwas war verwirrend oder unklar: „Etwas ging schief“" in text


def test_a_security_notice_is_told_in_german(people: People) -> None:
    # The in-app security notices (authdemo/account/notices.py) are written when shown,
    # in the reader's language: a sign-in on another device, read on this one.
    person = german(people.make(State.PASSKEY_ONLY))
    people.clock.advance(seconds=60)
    elsewhere = people.browser(person.app)
    assert elsewhere.sign_in_with_passkey(person.authenticator).status_code == 200
    _, _, text = read_in_german(person, "/account")
    assert "Sicherheitshinweise seit Ihrem letzten Besuch" in text
    assert "Neue Anmeldung bei Ihrem Konto mit einem Passkey." in text
    assert "Waren Sie das nicht?" in text
    assert_no_english(text, "account page with a security notice")


def test_withdrawing_and_deleting_speak_german_to_the_end(people: People) -> None:
    person = german(people.make(State.BOTH))
    withdrawn = submit(person.browser, "/account", action="/account/passkeys/consent/withdraw")
    path, lang, text = read_in_german(person, withdrawn.headers["Location"])
    assert path == "/account/passkeys/consent/withdrawn"
    assert lang == "de"
    assert "Die Passkey-Anmeldung ist ausgeschaltet. Wir haben 1 Passkey" in text
    assert "Sie können sich weiterhin mit Ihrem Passwort und Einmalcode anmelden." in text
    assert_no_english(text, "withdrawn page")

    form = find_form(person.browser, "/privacy/delete", action="/privacy/delete")
    wrong = person.browser.client.post(
        form.action, data={**form.values, "confirm_username": "jemand"}
    )
    assert wrong.status_code == 422
    _, text = visible(wrong.get_data(as_text=True))
    assert "Das ist nicht Ihr Benutzername." in text
    assert_no_english(text, "refused deletion")

    form = find_form(person.browser, "/privacy/delete", action="/privacy/delete")
    goodbye = person.browser.client.post(
        form.action, data={**form.values, "confirm_username": person.username}
    )
    assert goodbye.status_code == 200
    lang, text = visible(goodbye.get_data(as_text=True))
    assert lang == "de"
    assert "Ihr Konto ist gelöscht" in text
    assert_no_english(text, "goodbye page")


# --- the privacy notice says the same in both languages -------------------------------

#: A period as each language writes it: (number, unit) with the unit in English.
_PERIOD = {
    "en": re.compile(r"(\d+)\s(year|day|hour|minute|second)s?\b"),
    "de": re.compile(r"(\d+)\s(Jahr|Tag|Stunde|Minute|Sekunde)(?:e|en|n)?\b"),
}
_UNIT = {"Jahr": "year", "Tag": "day", "Stunde": "hour", "Minute": "minute", "Sekunde": "second"}
#: Settings with periods in every unit, so each unit's German is read.
PERIODS = {
    "AUDIT_RETENTION_DAYS": "365",
    "BACKUP_RETENTION_DAYS": "30",
    "CONSENT_RETENTION_DAYS": "1095",
    "CONSENT_REASK_DAYS": "1",
    "COMPLAINT_RETENTION_DAYS": "90",
    "SESSION_IDLE_SECONDS": "1800",
    "SESSION_ABSOLUTE_SECONDS": "43200",
    "ENROLMENT_TIMEOUT_SECONDS": "600",
}
CONTACTS = {
    "CONTROLLER_NAME": "Beispielbibliothek GmbH",
    "CONTROLLER_CONTACT": "datenschutz@bibliothek.example",
    "DPO_CONTACT": "dsb@bibliothek.example",
}


def periods(text: str, language: str) -> list[tuple[int, str]]:
    found = _PERIOD[language].findall(text)
    return sorted((int(n), _UNIT.get(unit, unit)) for n, unit in found)


def test_the_privacy_notice_in_german_states_the_same_periods_and_contacts(
    tmp_path: Path,
) -> None:
    from tests.functional.account_pages import items_of, text_of

    app = make_app(tmp_path, LANGUAGES="en,de", **PERIODS, **CONTACTS)
    pages = {}
    for language, header in (("en", "en-GB,en;q=0.9"), ("de", GERMAN)):
        response = app.test_client().get("/privacy/notice", headers={"Accept-Language": header})
        assert response.status_code == 200
        assert response.headers["Content-Language"] == language
        pages[language] = response.get_data(as_text=True)

    # The contacts come from configuration and are never translated.
    for element in ("controller", "controller-contact", "dpo-contact"):
        assert text_of(pages["de"], element) == text_of(pages["en"], element), element
    for contact in CONTACTS.values():
        assert contact in visible(pages["de"])[1]

    # Each retention period, item by item, and those of the short version and the
    # purposes: the same numbers in the same units, and no English unit left.
    english = items_of(pages["en"], "notice-retention-list")
    german_items = items_of(pages["de"], "notice-retention-list")
    assert len(german_items) == len(english) == 9
    for en, de in zip(english, german_items, strict=True):
        assert periods(de, "de") == periods(en, "en"), (en, de)
    for section in ("notice-short", "notice-purposes"):
        en_text, de_text = text_of(pages["en"], section), text_of(pages["de"], section)
        assert en_text is not None
        assert de_text is not None
        assert periods(de_text, "de") == periods(en_text, "en"), section
    german_text = visible(pages["de"])[1]
    assert periods(german_text, "de"), "the German notice names no period"
    assert not _PERIOD["en"].search(german_text), "an English period on the German notice"
    assert "3 Jahre" in german_text
    assert "1 Jahr" in german_text
    assert_no_english(german_text, "privacy notice")


def test_the_export_explains_itself_in_the_language_of_the_notice_the_person_reads(
    people: People,
) -> None:
    # GDPR Art 15(1)(a) to (h) and Art 12(1): a German reader's copy of their data comes
    # with the same explanations, in the same German words, as the privacy notice.
    person = german(people.make(State.PASSKEY_ONLY))
    download = person.browser.client.get("/privacy/export")
    assert download.status_code == 200
    about = json.loads(download.get_data())["about_this_processing"]
    notice = visible(person.browser.client.get("/privacy/notice").get_data(as_text=True))[1]
    for period in about["retention"]:
        assert period["data"] in notice
        assert period["kept"] in notice
    assert "Art. 6 Abs. 1 lit. a DSGVO" in " ".join(p["lawful_basis"] for p in about["purposes"])
    assert "Aufsichtsbehörde" in about["complaint"]
    english = english_fragments()
    for value in (about["recipients"], about["rights"], about["source"]):
        assert not [f for f in english if f in value], value
