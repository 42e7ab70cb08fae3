"""Consent in German, as a person gives it (issue 19 items 3, 4 and 6).

The person's browser asks for German (``Accept-Language``, as a browser set to German
sends on every request), reads the German notice, ticks the box and creates a passkey.
The ledger, the privacy dashboard, the export and a downloaded receipt must all name the
German text by its language and its SHA-256, and that hash must be the one pinned for the
German text in compliance/notice-pins.json: the pin file is read here, never a hash
computed from the code's own text (docs/decisions/0029-notices-per-language.md).

German is offered by configuration (``LANGUAGES``), as an operator would offer it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from authdemo.extensions import db
from authdemo.models import ConsentEvent
from tests.conftest import Browser, make_app
from tests.functional.test_consent_receipts import (
    claims_of,
    download,
    offered_receipt,
    verify_with_cli,
)
from tests.functional.test_consent_support import page, sign_up_with_passkey
from tests.functional.test_notice_pins import facts_shown
from tests.support.authenticator import SoftwareAuthenticator

REPO = Path(__file__).resolve().parents[2]
PURPOSE = "passkey_signin"
_NOTICE = re.compile(
    r'<div class="consent-notice" id="passkey-notice" lang="([^"]+)" data-notice-version="([^"]+)"'
    r' data-notice-language="([^"]+)" data-notice-sha256="([0-9a-f]{64})">'
)
_FIELD = re.compile(r'<input type="hidden" name="(notice_[a-z0-9]+)" value="([^"]*)">')


def pins() -> dict[tuple[str, str, str], str]:
    """The pinned SHA-256 of every published text, as an auditor reads the file."""
    document = json.loads((REPO / "compliance" / "notice-pins.json").read_text("utf-8"))
    return {(p["purpose"], p["version"], p["language"]): p["sha256"] for p in document["pins"]}


def german_browser(app: Flask) -> Browser:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9,en;q=0.5"
    return Browser(client)


def speaks(browser: Browser, header: str) -> None:
    """The person changes their browser's language."""
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = header


def form_fields(text: str) -> dict[str, str]:
    """The notice fields of the opt-in form, as static/js/consent-notice.js sends them."""
    return dict(_FIELD.findall(text))


def the_notice(text: str) -> tuple[str, str, str, str]:
    """(lang attribute, version, language, hash) of the notice the page shows."""
    match = _NOTICE.search(text)
    assert match is not None, "the page shows no consent notice"
    lang, version, language, sha256 = match.groups()
    return lang, version, language, sha256


def opt_in(browser: Browser, authenticator: SoftwareAuthenticator, fields: dict[str, str]) -> Any:
    options = browser.post_json("/api/passkeys/sign-up/options", {"consent": True, **fields})
    assert options.status_code == 200, options.get_json()
    return browser.post_json(
        "/api/passkeys/sign-up/verify", authenticator.create(options.get_json())
    )


def ledger_rows(app: Flask) -> list[tuple[str, str, str, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(
                ConsentEvent.notice_version,
                ConsentEvent.notice_language,
                ConsentEvent.notice_sha256,
                ConsentEvent.facts_sha256,
            ).order_by(ConsentEvent.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.fixture
def app_de(tmp_path: Path) -> Flask:
    return make_app(tmp_path, LANGUAGES="en,de")


def test_a_person_reading_german_agrees_to_the_german_text_and_every_record_names_it(
    app_de: Flask, authenticator: SoftwareAuthenticator, tmp_path: Path
) -> None:
    browser = german_browser(app_de)
    assert browser.choose_username("anna").status_code == 302
    shown = page(browser, "/signup/how")
    lang, version, language, declared = the_notice(shown)
    assert (lang, language) == ("de", "de")
    assert "Anmelden mit einem Passkey" in shown
    assert 'id="passkey-notice-fallback"' not in shown
    _, facts = facts_shown(shown)
    assert "3 Jahre" in dict(facts)["Wie lange wir den Nachweis Ihrer Entscheidung speichern"]
    fields = form_fields(shown)
    assert fields == {
        "notice_version": version,
        "notice_language": "de",
        "notice_sha256": declared,
    }

    assert opt_in(browser, authenticator, fields).status_code == 200

    pinned = pins()[(PURPOSE, version, "de")]
    [(v, recorded_language, recorded, _)] = ledger_rows(app_de)
    assert (v, recorded_language, recorded) == (version, "de", pinned)
    assert pinned != pins()[(PURPOSE, version, "en")]

    # The page after the decision offers the receipt (once).
    token = download(
        browser, offered_receipt(browser, "/account", label="Einwilligungsbeleg herunterladen")
    )
    verified = verify_with_cli(app_de, token, tmp_path)
    assert verified.exit_code == 0, verified.output
    claims = json.loads(verified.output.split("\n", 1)[1])
    assert claims["notice"]["language"] == "de"
    assert claims["notice"]["sha256"] == pinned
    assert claims["notice"]["url"].endswith(f"/notices/passkeys/{version}/de")

    dashboard = page(browser, "/privacy")
    assert 'data-language="de">Deutsch</span>' in dashboard
    assert f'<code class="consent-notice-sha256">{pinned}</code>' in dashboard
    assert f'href="/notices/passkeys/{version}/de"' in dashboard

    exported = browser.client.get("/api/privacy/export").get_json()
    [event] = exported["consent_events"]
    assert (event["notice_language"], event["notice_sha256"]) == ("de", pinned)

    # The page a receipt or ledger row links to shows exactly that text.
    linked = page(browser, f"/notices/passkeys/{version}/de")
    assert the_notice(linked)[3] == pinned

    audited = app_de.test_cli_runner().invoke(args=["compliance", "ledger"])
    assert audited.exit_code == 0, audited.output
    assert f"{PURPOSE} v{version} (de) {pinned}: 1 record(s)" in audited.output


@pytest.mark.parametrize(
    "tamper",
    [
        # The German row claims the English text's pin (the reviewer's tamper).
        lambda pin, version: pin[(PURPOSE, version, "en")],
        lambda pin, version: "0" * 64,
    ],
    ids=["english-pin", "made-up"],
)
def test_a_ledger_row_whose_hash_is_not_its_languages_pin_fails_the_compliance_check(
    app_de: Flask, authenticator: SoftwareAuthenticator, tamper: Any
) -> None:
    """Issue 19 item 3, as an auditor runs it: ``flask compliance check --ledger`` over the
    database a German consent was recorded in passes, and fails once the row's hash is not
    the pin of its own (version, language), even when it is the pin of another language."""
    browser = german_browser(app_de)
    browser.choose_username("anna")
    fields = form_fields(page(browser, "/signup/how"))
    assert opt_in(browser, authenticator, fields).status_code == 200
    runner = app_de.test_cli_runner()
    clean = runner.invoke(args=["compliance", "check", "--ledger"])
    assert clean.exit_code == 0, clean.output
    assert "1 consent records" in clean.output

    with app_de.app_context():
        forged = tamper(pins(), fields["notice_version"])
        db.session.execute(update(ConsentEvent).values(notice_sha256=forged))
        db.session.commit()
    tampered = runner.invoke(args=["compliance", "check", "--ledger"])
    assert tampered.exit_code == 1
    version = fields["notice_version"]
    assert f"consent ledger: 1 record(s) of {PURPOSE} v{version} (de) store SHA-256 {forged}" in (
        tampered.output
    )
    # Without --ledger the check reads files only (docs/decisions/0017).
    assert runner.invoke(args=["compliance", "check"]).exit_code == 0


def test_the_facts_hash_recorded_is_the_german_block_the_page_showed(
    app_de: Flask, authenticator: SoftwareAuthenticator
) -> None:
    browser = german_browser(app_de)
    browser.choose_username("anna")
    shown = page(browser, "/signup/how")
    declared, facts = facts_shown(shown)
    words = "\n".join(f"{label}: {value}" for label, value in facts)
    assert "90 Tage" in words
    assert opt_in(browser, authenticator, form_fields(shown)).status_code == 200
    [(_, _, _, recorded_facts)] = ledger_rows(app_de)
    assert recorded_facts == declared == hashlib.sha256(words.encode()).hexdigest()


def test_switching_language_between_reading_and_agreeing_records_the_text_that_was_read(
    app_de: Flask, authenticator: SoftwareAuthenticator
) -> None:
    """The form says which text its page showed; a switch to English in another tab since
    does not put the English words in the person's mouth."""
    browser = german_browser(app_de)
    browser.choose_username("anna")
    read_in_german = form_fields(page(browser, "/signup/how"))
    speaks(browser, "en")
    assert the_notice(page(browser, "/signup/how"))[2] == "en"  # the other tab
    assert opt_in(browser, authenticator, read_in_german).status_code == 200
    [(version, language, recorded, _)] = ledger_rows(app_de)
    assert (language, recorded) == ("de", pins()[(PURPOSE, version, "de")])


def test_switching_to_german_between_reading_and_agreeing_records_the_english_facts_read(
    app_de: Flask, authenticator: SoftwareAuthenticator
) -> None:
    """The facts block beside the English text is said in English, whatever language the
    request that records the decision is in: its hash is the block the page showed."""
    browser = german_browser(app_de)
    speaks(browser, "en")
    browser.choose_username("anna")
    shown = page(browser, "/signup/how")
    declared, facts = facts_shown(shown)
    words = "\n".join(f"{label}: {value}" for label, value in facts)
    assert "3 years" in words
    speaks(browser, "de")  # the other tab
    assert opt_in(browser, authenticator, form_fields(shown)).status_code == 200
    [(_, language, _, recorded_facts)] = ledger_rows(app_de)
    assert language == "en"
    assert recorded_facts == declared == hashlib.sha256(words.encode()).hexdigest()


def test_a_text_that_does_not_match_its_language_is_refused(app_de: Flask) -> None:
    browser = german_browser(app_de)
    browser.choose_username("anna")
    fields = form_fields(page(browser, "/signup/how"))
    english_hash = pins()[(PURPOSE, fields["notice_version"], "en")]
    response = browser.post_json(
        "/api/passkeys/sign-up/options",
        {"consent": True, **fields, "notice_sha256": english_hash},
    )
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("notice-mismatch")
    assert ledger_rows(app_de) == []


def test_a_language_this_deployment_does_not_offer_is_refused(
    tmp_path: Path, app_de: Flask
) -> None:
    """German exists in the code, but this deployment offers English only: no page of it
    can have shown the German text."""
    german = form_fields(page_after_username(german_browser(app_de)))
    assert german["notice_language"] == "de"
    english_only = make_app(tmp_path, LANGUAGES="en")  # an operator who offers only English
    browser = german_browser(english_only)
    browser.choose_username("anna")
    assert the_notice(page(browser, "/signup/how"))[2] == "en"
    response = browser.post_json("/api/passkeys/sign-up/options", {"consent": True, **german})
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("unknown-notice")


def page_after_username(browser: Browser) -> str:
    browser.choose_username("someone")
    return page(browser, "/signup/how")


def test_adding_german_to_a_version_asks_nobody_who_agreed_to_it_in_english(
    app_de: Flask, authenticator: SoftwareAuthenticator
) -> None:
    english = Browser(app_de.test_client())
    assert sign_up_with_passkey(app_de, english, authenticator).status_code == 200
    [(version, language, _, _)] = ledger_rows(app_de)
    assert language == "en"
    english.sign_out()
    speaks(english, "de")
    assert english.sign_in_with_passkey(authenticator).status_code == 200
    account = english.client.get("/account")
    assert account.status_code == 200  # not sent to the "asked again" page
    manage = page(english, "/account/passkeys/consent")
    assert the_notice(manage)[1:3] == (version, "de")
    assert 'id="reconsent-due"' not in manage
    assert len(ledger_rows(app_de)) == 1


def test_a_version_never_published_in_german_is_shown_in_english_and_says_so(
    app_de: Flask,
) -> None:
    browser = german_browser(app_de)
    shown = page(browser, "/notices/passkeys/1")
    lang, version, language, sha256 = the_notice_any(shown)
    assert (lang, version, language) == ("en", "1", "en")
    assert sha256 == pins()[(PURPOSE, "1", "en")]
    assert 'id="passkey-notice-fallback"' in shown
    assert browser.client.get("/notices/passkeys/1/de").status_code == 404
    current = page(browser, "/notices/passkeys")
    assert 'id="passkey-notice-fallback"' not in current
    assert html.unescape(current).count("Anmelden mit einem Passkey") >= 1


def the_notice_any(text: str) -> tuple[str, str, str, str]:
    match = re.search(
        r'<div class="consent-notice" id="[^"]+" lang="([^"]+)" data-notice-version="([^"]+)"'
        r' data-notice-language="([^"]+)" data-notice-sha256="([0-9a-f]{64})">',
        text,
    )
    assert match is not None
    lang, version, language, sha256 = match.groups()
    return lang, version, language, sha256


#: What a consent receipt says to the person in words (not codes, ids or addresses).
RECEIPT_WORDS = (
    ("purpose", "description"),
    ("withdraw", "how"),
    ("subject", "about_id"),
    ("subject", "about_username"),
    ("retention", "about"),
)
#: Formal German address: every sentence of a receipt speaks to the person or of theirs.
_ADDRESSED = re.compile(r"\b(?:Sie|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihnen)\b")


def receipt_words(claims: dict[str, Any]) -> dict[str, str]:
    return {f"{part}.{name}": claims[part][name] for part, name in RECEIPT_WORDS}


def runs(text: str, length: int = 3) -> set[str]:
    """Every run of ``length`` words of ``text``: English left in a translation shows."""
    words = re.findall(r"[\w'-]+", text.lower())
    return {" ".join(words[i : i + length]) for i in range(len(words) - length + 1)}


def test_a_receipt_of_a_german_consent_says_its_words_in_german(
    app_de: Flask, tmp_path: Path
) -> None:
    # Anna agrees reading the German notice; Ben agrees reading the English one.
    anna = german_browser(app_de)
    assert anna.choose_username("anna").status_code == 302
    assert (
        opt_in(anna, SoftwareAuthenticator(), form_fields(page(anna, "/signup/how"))).status_code
        == 200
    )
    ben = Browser(app_de.test_client())
    speaks(ben, "en-GB,en;q=0.9")
    assert ben.choose_username("ben").status_code == 302
    assert (
        opt_in(ben, SoftwareAuthenticator(), form_fields(page(ben, "/signup/how"))).status_code
        == 200
    )

    # Anna's browser asks for English by the time she downloads: a receipt speaks the
    # language of the notice she agreed to (the ledger row's), not of the request.
    speaks(anna, "en-GB,en;q=0.9")
    token = download(anna, offered_receipt(anna, "/account"), include_username="yes")
    verified = verify_with_cli(app_de, token, tmp_path)
    assert verified.exit_code == 0, verified.output
    german = json.loads(verified.output.split("\n", 1)[1])
    english = claims_of(download(ben, offered_receipt(ben, "/account"), include_username="yes"))
    assert (german["notice"]["language"], german["receipt"]["language"]) == ("de", "de")
    assert (english["notice"]["language"], english["receipt"]["language"]) == ("en", "en")
    for field, words in receipt_words(german).items():
        said_in_english = receipt_words(english)[field]
        assert _ADDRESSED.search(words), (field, words)
        assert not runs(words) & runs(said_in_english), (field, words)
    assert "mehr als einige Minuten zurück" in german["withdraw"]["how"]

    # The same receipts, in the same words, in her data export (asked for in English).
    exported = anna.client.get("/api/privacy/export").get_json()
    [receipt] = exported["consent_receipts"]
    in_export = claims_of(receipt["jws"])
    assert in_export["receipt"]["language"] == "de"
    assert in_export["purpose"] == german["purpose"]
    assert in_export["withdraw"] == german["withdraw"]
