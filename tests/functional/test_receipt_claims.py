"""What a consent receipt promises holds for what the app does (issue 19 review).

- ``retention``: for each kind of decision (a yes at sign-up, a renewal, a "No thanks" on
  the account page or at sign-up, a withdrawal), made through the app as a person makes
  it, the receipt's ``retention.days`` is read from the downloaded file and the operator's
  ``flask retention purge`` is run with the clock a day before and a day after that many
  days from the decision: the ledger row is there before; after, it is gone, unless the
  receipt says it is kept longer while it is the person's latest choice
  (``retention.longer_while_latest``), and then it is there until a newer decision, and
  gone after it. After the person deletes their account, the row (under the receipt's
  pseudonym) is there before and gone after, whatever the kind.
- ``withdraw.how``: every label it quotes is a heading or a control on the consent page
  it sends the person to, in the receipt's language, and the withdraw button that page
  shows is one of them, with and without another way in.

The row is found as an auditor finds it, from the receipt alone: its time, its action and
its subject (the account's id, or ``erased:`` and the receipt's pseudonym once erased).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import ConsentEvent
from tests.conftest import Browser, PasswordAccount
from tests.functional.test_consent_in_german import form_fields, opt_in, speaks
from tests.functional.test_consent_receipts import claims_of, download, offered_receipt
from tests.functional.test_consent_support import (
    MATERIAL_NEXT,
    notice_fields,
    page,
    publish,
    sign_up_with_passkey,
    user_id,
)
from tests.functional.test_consent_withdrawal import add_password_and_code
from tests.functional.test_privacy_erasure import delete_account
from tests.functional.test_retention_reasons import decline_then_sign_up_with_password, flask
from tests.support.authenticator import SoftwareAuthenticator

WITHDRAW = "/account/passkeys/consent/withdraw"
NO_THANKS = "/account/passkeys/consent/no-thanks"
#: What a person has to choose to withdraw, as a receipt quotes it, per language.
QUOTED = {"en": re.compile(r"(?<!\w)'(.+?)'(?!\w)"), "de": re.compile(r"„(.+?)“")}


@dataclass
class Decided:
    """A decision made through the app: the person's browser, username and account id,
    their receipt of it (as downloaded), and how they make a newer decision later."""

    browser: Browser
    username: str
    account: str
    receipt: dict[str, Any]
    decide_again: Callable[[], None]


# --- each kind of decision, as a person makes it --------------------------------------------


def receipt_offered_on(
    browser: Browser, path: str, label: str = "Download your consent receipt"
) -> dict[str, Any]:
    return claims_of(download(browser, offered_receipt(browser, path, label)))


def withdraws_later(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> None:
    """Back another day: signs in with the passkey and withdraws (a fresh sign-in: one
    click)."""
    browser.sign_out()
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    assert browser.post_form(WITHDRAW, notice_fields(app)).status_code == 302


def says_no_thanks_later(browser: Browser, account: PasswordAccount, clock: FrozenClock) -> None:
    """Back another day, invited again: signs in with password and code, "No thanks"."""
    browser.sign_out()
    assert browser.sign_in_with_password(account, clock).status_code == 302
    fields = form_fields(page(browser, "/account/passkeys/consent"))
    assert browser.post_form(NO_THANKS, fields).status_code == 302


def granted(app: Flask, browser: Browser, clock: FrozenClock) -> Decided:
    authenticator = SoftwareAuthenticator()
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    return Decided(
        browser,
        "alice",
        user_id(app, "alice"),
        receipt_offered_on(browser, "/account"),
        lambda: withdraws_later(app, browser, authenticator),
    )


def renewed(app: Flask, browser: Browser, clock: FrozenClock) -> Decided:
    authenticator = SoftwareAuthenticator()
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    page(browser, "/account")  # the grant's offer, used up
    browser.sign_out()
    publish(app, MATERIAL_NEXT)
    clock.advance(days=1)
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    fields = {**notice_fields(app, MATERIAL_NEXT), "next": "/account"}
    assert browser.post_form("/account/passkeys/consent/renew", fields).status_code == 302
    receipt = receipt_offered_on(browser, "/account")
    assert receipt["decision"]["renewal"] is True
    return Decided(
        browser,
        "alice",
        user_id(app, "alice"),
        receipt,
        lambda: withdraws_later(app, browser, authenticator),
    )


def declined_on_the_account_page(app: Flask, browser: Browser, clock: FrozenClock) -> Decided:
    account = browser.sign_up_with_password(clock, "bob")
    page(browser, "/account")
    fields = form_fields(page(browser, "/account/passkeys/consent"))
    assert browser.post_form(NO_THANKS, fields).status_code == 302
    return Decided(
        browser,
        "bob",
        user_id(app, "bob"),
        receipt_offered_on(browser, "/account"),
        lambda: says_no_thanks_later(browser, account, clock),
    )


def declined_at_sign_up(app: Flask, browser: Browser, clock: FrozenClock) -> Decided:
    decline_then_sign_up_with_password(browser, clock, "carol")
    return Decided(
        browser,
        "carol",
        user_id(app, "carol"),
        receipt_offered_on(browser, "/account"),
        lambda: pytest.fail("a decline is not kept longer: nothing to decide again"),
    )


def withdrawn(app: Flask, browser: Browser, clock: FrozenClock) -> Decided:
    assert sign_up_with_passkey(app, browser, SoftwareAuthenticator()).status_code == 200
    account = add_password_and_code(browser, clock)
    page(browser, "/account")  # the grant's offer, used up
    assert browser.post_form(WITHDRAW, notice_fields(app)).status_code == 302
    return Decided(
        browser,
        "alice",
        user_id(app, "alice"),
        receipt_offered_on(browser, "/account/passkeys/consent/withdrawn"),
        lambda: says_no_thanks_later(browser, account, clock),
    )


DECISIONS = [granted, renewed, declined_on_the_account_page, declined_at_sign_up, withdrawn]


# --- what the operator's purge leaves ---------------------------------------------------------


def decided_at(receipt: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(receipt["decision"]["at"])


def rows_of(app: Flask, decided: Decided) -> int:
    """The ledger rows this receipt is about: its subject (the account, or the receipt's
    pseudonym once erased), its action, its time."""
    receipt = decided.receipt
    subjects = {decided.account, "erased:" + receipt["sub"]}
    with app.app_context():
        rows = db.session.execute(
            select(ConsentEvent.user_ref, ConsentEvent.action, ConsentEvent.occurred_at)
        ).all()
    return sum(
        1
        for row in rows
        if row.user_ref in subjects
        and row.action == receipt["decision"]["action"]
        and row.occurred_at == decided_at(receipt)
    )


def purge_on(app: Flask, clock: FrozenClock, day: datetime) -> None:
    """The operator's scheduled ``flask retention purge``, run at ``day``."""
    assert day > clock.now()
    clock.advance(seconds=(day - clock.now()).total_seconds())
    result = flask(app, "retention", "purge")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("decide", DECISIONS)
def test_the_purge_keeps_a_decision_as_long_as_its_receipt_says(
    app: Flask, browser: Browser, clock: FrozenClock, decide: Callable[..., Decided]
) -> None:
    decided = decide(app, browser, clock)
    retention = decided.receipt["retention"]
    days, at = retention["days"], decided_at(decided.receipt)
    assert rows_of(app, decided) == 1

    purge_on(app, clock, at + timedelta(days=days - 1))
    assert rows_of(app, decided) == 1

    purge_on(app, clock, at + timedelta(days=days + 1))
    if not retention["longer_while_latest"]:
        assert rows_of(app, decided) == 0
        return
    assert rows_of(app, decided) == 1  # still the person's latest choice
    decided.decide_again()
    purge_on(app, clock, clock.now() + timedelta(minutes=1))
    assert rows_of(app, decided) == 0


@pytest.mark.parametrize("decide", DECISIONS)
def test_after_the_account_is_deleted_the_purge_keeps_a_decision_as_its_receipt_says(
    app: Flask, browser: Browser, clock: FrozenClock, decide: Callable[..., Decided]
) -> None:
    decided = decide(app, browser, clock)
    days, at = decided.receipt["retention"]["days"], decided_at(decided.receipt)
    assert delete_account(decided.browser, decided.username).status_code == 200

    purge_on(app, clock, at + timedelta(days=days - 1))
    assert rows_of(app, decided) == 1  # under the receipt's pseudonym

    purge_on(app, clock, at + timedelta(days=days + 1))
    assert rows_of(app, decided) == 0


# --- how to withdraw: the words the receipt quotes are on the page ---------------------------


class _Labels(HTMLParser):
    """The text of every heading and every control (button, link, label) in ``<main>``."""

    TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "button", "a", "label"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_main = 0
        self.open: list[tuple[str, list[str]]] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main += 1
        elif self.in_main and tag in self.TAGS:
            self.open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main -= 1
        elif self.open and self.open[-1][0] == tag:
            _, text = self.open.pop()
            self.found.append((tag, " ".join("".join(text).split())))

    def handle_data(self, data: str) -> None:
        for _, text in self.open:
            text.append(data)


def labels(html: str) -> list[tuple[str, str]]:
    """(tag, text) of the headings and controls a person sees in the page's ``<main>``."""
    reader = _Labels()
    reader.feed(html)
    return reader.found


def withdraw_button(html: str) -> str:
    match = re.search(
        rf'<form method="post" action="{WITHDRAW}".*?<button[^>]*>(.*?)</button>', html, re.S
    )
    assert match is not None, "the page offers no withdrawal"
    return " ".join(match.group(1).split())


@pytest.mark.parametrize("language", ["en", "de"])
def test_how_to_withdraw_quotes_what_the_consent_page_shows(
    app: Flask, browser: Browser, clock: FrozenClock, language: str
) -> None:
    speaks(browser, {"en": "en-GB,en;q=0.9", "de": "de-DE,de;q=0.9"}[language])
    assert browser.choose_username("alice").status_code == 302
    fields = form_fields(page(browser, "/signup/how"))
    assert fields["notice_language"] == language
    assert opt_in(browser, SoftwareAuthenticator(), fields).status_code == 200
    offer = {"en": "Download your consent receipt", "de": "Einwilligungsbeleg herunterladen"}
    receipt = receipt_offered_on(browser, "/account", offer[language])
    assert receipt["receipt"]["language"] == language
    quoted = QUOTED[language].findall(receipt["withdraw"]["how"])
    consent_page = urlsplit(receipt["withdraw"]["url"]).path

    only_way_in = page(browser, consent_page)  # a passkey is her only way in
    add_password_and_code(browser, clock)
    with_another = page(browser, consent_page)
    shown = {text for html in (only_way_in, with_another) for _, text in labels(html)}

    assert quoted
    assert [words for words in quoted if words not in shown] == []
    title = dict(labels(only_way_in))["h1"]
    assert title in quoted  # the page is named as it calls itself
    assert withdraw_button(only_way_in) in quoted
    assert withdraw_button(with_another) in quoted
    assert withdraw_button(only_way_in) != withdraw_button(with_another)
