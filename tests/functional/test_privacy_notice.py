"""The privacy notice where data is collected (GDPR Art 13; issue 16 item 17).

Read the way a visitor reads it: from the footer of any page or beside the sign-up and
sign-in forms, without an account, in plain words. The organisation's name and contacts
come from configuration; periods are in human units; the details open on demand.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

from authdemo.human_units import human_duration, human_seconds
from authdemo.models import Base
from tests.conftest import Browser, make_app
from tests.functional.test_every_route import visit_every_page
from tests.support.authenticator import SoftwareAuthenticator

NOTICE = "/privacy/notice"


class Links(HTMLParser):
    """Where each link to the notice sits: in the footer, or in the page's main content."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.places: list[str] = []
        self.details = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"main", "footer"}:
            self.stack.append(tag)
        if tag == "details":
            self.details += 1
        if tag == "a" and dict(attrs).get("href") == NOTICE:
            self.places.append(self.stack[-1] if self.stack else "elsewhere")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"main", "footer"} and self.stack:
            self.stack.pop()


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def configured(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path,
        CONTROLLER_NAME="Example Library Ltd",
        CONTROLLER_CONTACT="privacy@library.example",
        DPO_CONTACT="dpo@library.example",
    )


def test_anyone_can_read_it_with_the_controller_and_dpo_from_configuration(
    tmp_path: Path,
) -> None:
    page = configured(tmp_path).test_client().get(NOTICE)
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    for fact in ("Example Library Ltd", "privacy@library.example", "dpo@library.example"):
        assert fact in text
    assert "not set up yet" not in text


def test_a_deployment_without_a_dpo_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, CONTROLLER_NAME="Ex", CONTROLLER_CONTACT="c@ex", DPO_CONTACT="none")
    text = text_of(app.test_client().get(NOTICE).get_data(as_text=True))
    assert "We have not appointed a data protection officer" in text


def test_development_shows_the_placeholders_plainly(app: Flask, browser: Browser) -> None:
    text = text_of(browser.client.get(NOTICE).get_data(as_text=True))
    assert "This copy of the app is not set up yet" in text
    assert "[controller name: set AUTHDEMO_CONTROLLER_NAME]" in text


def test_it_says_purposes_bases_recipients_rights_and_the_right_to_complain(
    app: Flask, browser: Browser
) -> None:
    html = browser.client.get(NOTICE).get_data(as_text=True)
    text = text_of(html)
    for article in ("Art 6(1)(a)", "Art 6(1)(b)", "Art 6(1)(c)", "Art 6(1)(f)", "Art 22"):
        assert article in text
    assert "passkey provider" in text
    assert "display name" in text
    assert "complain to a data protection authority" in text
    for right in ("/privacy", "/privacy/delete", "/account/profile", "/account/passkeys/consent"):
        assert f'href="{right}"' in html


def test_periods_are_in_human_units_from_the_running_configuration(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, CONSENT_RETENTION_DAYS=2 * 365, SESSION_ABSOLUTE_SECONDS=8 * 3600)
    settings = app.extensions["authdemo.settings"]
    text = text_of(app.test_client().get(NOTICE).get_data(as_text=True))
    assert "2 years after you make them" in text
    assert "at most 8 hours" in text
    assert f"{human_duration(settings.AUDIT_RETENTION_DAYS)}" in text
    assert human_seconds(settings.SESSION_IDLE_SECONDS) in text
    assert "730 days" not in text
    assert "28800" not in text


def test_it_is_layered_short_first_then_details_on_demand(browser: Browser) -> None:
    html = browser.client.get(NOTICE).get_data(as_text=True)
    assert html.index('id="notice-short"') < html.index("<details")
    assert links(html).details >= 5


def test_it_reads_as_plain_words_without_table_or_setting_names(browser: Browser) -> None:
    text = text_of(browser.client.get(NOTICE).get_data(as_text=True))
    tables = {name for name in Base.metadata.tables if "_" in name}
    assert not {name for name in tables if name in text}
    # A setting's name, other than in the development placeholders that say what to set.
    assert not re.findall(r"\b[A-Z]{2,}_[A-Z_]{3,}\b", re.sub(r"\[[^\]]*\]", "", text))


def test_every_page_links_to_it_in_the_footer(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    seen = 0
    for signed_in in (False, True):
        if signed_in:
            assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
        for url, response in visit_every_page(app, browser):
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            seen += 1
            assert "footer" in links(response.get_data(as_text=True)).places, url
    assert seen > 10


def test_the_sign_up_and_sign_in_forms_link_to_it_beside_the_form(browser: Browser) -> None:
    assert "main" in links(browser.client.get("/signin").get_data(as_text=True)).places
    assert "main" in links(browser.client.get("/signup").get_data(as_text=True)).places
    assert browser.choose_username("grace").status_code == 302
    assert "main" in links(browser.client.get("/signup/how").get_data(as_text=True)).places


def test_the_export_carries_the_supplementary_information_of_art_15(tmp_path: Path) -> None:
    # GDPR Art 15(1)(a) to (h): a copy of the data comes with why, what, who, how long,
    # the rights, where to complain, where it came from, and automated decisions.
    app = configured(tmp_path)
    person = Browser(app.test_client())
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "ada").status_code == 200
    download = person.client.get("/privacy/export")
    assert download.status_code == 200
    about = json.loads(download.get_data())["about_this_processing"]
    assert about["controller"] == {
        "name": "Example Library Ltd",
        "contact": "privacy@library.example",
        "dpo": "dpo@library.example",
    }
    bases = " ".join(p["lawful_basis"] for p in about["purposes"])
    for article in ("6(1)(a)", "6(1)(b)", "6(1)(c)", "6(1)(f)"):
        assert article in bases
    assert "passkey provider" in about["recipients"]
    assert "3 years" in " ".join(r["kept"] for r in about["retention"])
    assert "Art 77" in about["complaint"]
    assert "Art 22" in about["automated_decisions"]
    assert about["source"]
    # The same periods, in the same words, as the notice a visitor reads.
    notice = text_of(app.test_client().get(NOTICE).get_data(as_text=True))
    assert all(r["kept"] in notice for r in about["retention"])


#: How each language says "language", "delete your account" and "cookie".
LANGUAGE_CHOICE_WORDS = {
    "en": ("language", "delete your account", "cookie"),
    "de": ("Sprache", "Konto löschen", "Cookie"),
}


@pytest.mark.parametrize("language", sorted(LANGUAGE_CHOICE_WORDS))
def test_it_says_the_language_a_person_chose_is_kept_where_and_until_when(
    tmp_path: Path, language: str
) -> None:
    # The selector's choice is personal data on the account (users.language) and a code
    # in the cookie (compliance/data-inventory.yaml): the notice lists it with the rest of
    # what is kept, why, and for how long, in every language it is read in (Art 13(1)(c),
    # 13(2)(a)); test_language_choice.py proves the export, the erasure and the cookie.
    from tests.functional.account_pages import items_of, text_of

    app = make_app(tmp_path, LANGUAGES="en,de")
    page = app.test_client().get(NOTICE, headers={"Accept-Language": language})
    assert page.headers["Content-Language"] == language
    word, deleted, cookie = LANGUAGE_CHOICE_WORDS[language]
    kept = [item for item in items_of(page, "notice-retention-list") if word in item]
    assert len(kept) == 1, "the retention list has no (or two) items about the language"
    assert deleted in kept[0]
    assert cookie in kept[0]
    assert word in (text_of(page, "notice-short") or "")
    assert word in (text_of(page, "notice-purposes") or "")
    assert word in (text_of(page, "notice-device") or "")
