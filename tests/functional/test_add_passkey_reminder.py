"""Adding a passkey when consent is already given (issue 17 item 6): the page reminds the
person in one line, with a link to the notice they agreed to, instead of showing the
notice and the box again, and the ledger gets no new row. A new notice version, even a
wording-only one, still shows the notice and the unticked box, and ticking it records
one grant of the new version.

The requests are built from the page itself, as its script builds them: the hidden
notice fields of the add form, if it has them, and nothing otherwise."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser
from tests.functional.account_pages import has_id, text_of
from tests.functional.test_consent_support import (
    WORDING_NEXT,
    ledger,
    passkey_count,
    publish,
)
from tests.functional.test_consent_withdrawal import add_password_and_code, withdraw
from tests.support.authenticator import SoftwareAuthenticator

PAGE = "/account/passkeys"
_ADD_FORM = re.compile(r'<form id="add-passkey-form".*?</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="(notice_version|notice_sha256)" value="([^"]*)">')


def what_the_page_sends(html: str, *, tick: bool) -> dict[str, Any]:
    """The options request of static/js/consent-notice.js: the tick and the notice the
    form carries; an empty body from a form that carries none (the reminder)."""
    form = _ADD_FORM.search(html)
    assert form is not None, "no add-passkey form on the page"
    fields = dict(_HIDDEN.findall(form.group(0)))
    if not fields:
        return {}
    return {"consent": tick, **fields}


def add_from_the_page(browser: Browser, authenticator: SoftwareAuthenticator) -> Any:
    html = browser.client.get(PAGE).get_data(as_text=True)
    options = browser.post_json("/api/passkeys/add/options", what_the_page_sends(html, tick=True))
    if options.status_code != 200:
        return options
    return browser.post_json("/api/passkeys/add/verify", authenticator.create(options.get_json()))


@pytest.fixture
def alice(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    """Agreed to the current notice at sign-up."""
    assert browser.sign_up_with_passkey(authenticator, "alice").status_code == 200
    return browser


def test_someone_who_agreed_to_the_current_notice_sees_a_one_line_reminder_not_the_notice(
    app: Flask, alice: Browser
) -> None:
    page = alice.client.get(PAGE)

    assert has_id(page, "consent-reminder")
    assert not has_id(page, "passkey-notice")
    assert not has_id(page, "passkey-consent")
    html = page.get_data(as_text=True)
    current = ledger(app)[-1].notice_version
    assert f'href="/notices/passkeys/{current}"' in html
    assert "You agreed to how passkeys work here" in text_of(page, "consent-reminder")


def test_adding_a_passkey_after_the_reminder_writes_no_new_grant(
    app: Flask, alice: Browser
) -> None:
    before = ledger(app)

    added = add_from_the_page(alice, SoftwareAuthenticator())

    assert added.status_code == 200, added.get_json()
    assert passkey_count(app, "alice") == 2
    assert ledger(app) == before  # the same one grant, from sign-up


def test_a_new_notice_version_shows_the_notice_and_box_again_and_ticking_records_it(
    app: Flask, alice: Browser
) -> None:
    publish(app, WORDING_NEXT)  # not material: nobody is asked at sign-in, but here we ask
    page = alice.client.get(PAGE)
    assert not has_id(page, "consent-reminder")
    assert has_id(page, "passkey-notice")
    assert has_id(page, "passkey-consent")

    added = add_from_the_page(alice, SoftwareAuthenticator())

    assert added.status_code == 200, added.get_json()
    grants = [row for row in ledger(app) if row.action == "granted"]
    assert [row.notice_version for row in grants][-1] == WORDING_NEXT.version
    assert len(grants) == 2
    assert alice.client.get(PAGE).get_data(as_text=True).count('id="consent-reminder"') == 1


def test_without_the_box_a_new_notice_version_is_refused_and_nothing_is_recorded(
    app: Flask, alice: Browser
) -> None:
    publish(app, WORDING_NEXT)
    before = ledger(app)

    refused = alice.post_json("/api/passkeys/add/options", {})

    assert refused.status_code == 400
    assert refused.get_json()["type"].endswith("consent-required")
    assert ledger(app) == before
    assert passkey_count(app, "alice") == 1


def test_after_a_withdrawal_the_box_is_back_and_an_empty_request_is_refused(
    app: Flask, alice: Browser, clock: FrozenClock
) -> None:
    add_password_and_code(alice, clock)
    assert withdraw(app, alice).status_code == 302
    page = alice.client.get(PAGE)
    assert has_id(page, "passkey-consent")
    assert not has_id(page, "consent-reminder")
    before = ledger(app)

    refused = alice.post_json("/api/passkeys/add/options", {})

    assert refused.status_code == 400
    assert ledger(app) == before
