"""A material change to the passkey notice asks people who agreed to an older version
again, at their next sign-in, whatever way they sign in, without blocking password +
code; a wording-only change asks nobody."""

from __future__ import annotations

import html

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.consent import web
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, NoticeBook
from tests.conftest import Browser, PasswordAccount
from tests.functional.test_consent_support import (
    MATERIAL_NEXT,
    WORDING_NEXT,
    audit_details,
    ledger,
    notice_fields,
    page,
    passkey_count,
    publish,
    sign_up_with_passkey,
)
from tests.functional.test_consent_withdrawal import add_password_and_code
from tests.support.authenticator import SoftwareAuthenticator

RENEW = "/account/passkeys/consent/renew"


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    """Agreed to notice version 1 at sign-up, then signed out."""
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    browser.sign_out()
    return browser


def _first_page_after_sign_in(browser: Browser) -> str:
    """Where the first page after signing in sends the person."""
    response = browser.client.get("/account")
    return response.headers.get("Location", "") if response.status_code == 302 else "/account"


def test_material_change_asks_again_at_the_next_passkey_sign_in(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    assert alice.sign_in_with_passkey(authenticator).status_code == 200
    assert _first_page_after_sign_in(alice) == f"{RENEW}?next=/account"
    text = html.unescape(page(alice, f"{RENEW}?next=/account"))
    assert MATERIAL_NEXT.changes in text
    assert MATERIAL_NEXT.text in text
    assert f'name="notice_sha256" value="{MATERIAL_NEXT.sha256}"' in text


def test_material_change_asks_again_after_password_sign_in_without_blocking_it(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, clock: FrozenClock
) -> None:
    sign_up_with_passkey(app, browser, authenticator)
    account: PasswordAccount = add_password_and_code(browser, clock)
    browser.sign_out()
    publish(app, MATERIAL_NEXT)
    clock.advance(seconds=30)

    assert browser.sign_in_with_password(account, clock).status_code == 302
    assert _first_page_after_sign_in(browser).startswith(RENEW)
    text = page(browser, f"{RENEW}?next=/account")
    assert 'href="/account" id="reconsent-later"' in text
    # "Decide later": the account works, and the question does not follow them around.
    assert "Hello" in page(browser, "/account")


def test_the_question_comes_back_at_the_next_sign_in_until_answered(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    assert _first_page_after_sign_in(alice).startswith(RENEW)
    assert _first_page_after_sign_in(alice) == "/account"
    alice.sign_out()
    alice.sign_in_with_passkey(authenticator)
    assert _first_page_after_sign_in(alice).startswith(RENEW)


def test_agreeing_records_the_new_version_and_stops_the_question(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    response = alice.post_form(RENEW, {**notice_fields(app), "next": "/account"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    latest = ledger(app)[-1]
    assert (latest.action, latest.notice_version) == ("granted", MATERIAL_NEXT.version)
    assert (latest.notice_sha256, latest.method) == (MATERIAL_NEXT.sha256, "reconsent:agree-button")
    assert audit_details(app, "consent.granted")[-1]["via"] == "reconsent:agree-button"
    alice.sign_out()
    alice.sign_in_with_passkey(authenticator)
    assert _first_page_after_sign_in(alice) == "/account"


def test_wording_only_change_asks_nobody(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, WORDING_NEXT)
    alice.sign_in_with_passkey(authenticator)
    assert _first_page_after_sign_in(alice) == "/account"
    assert alice.client.get(RENEW).status_code == 302


def test_published_version_2_asks_nobody_who_agreed_to_version_1(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    """Version 2 rewords the comparison with password + code and says more about what the
    provider receives; nothing processed changed, so it is not material (issue 16 item 5)."""
    v1, v2 = NOTICES.versions(PASSKEY_SIGNIN)[:2]
    app.extensions[web.NOTICES_EXTENSION] = NoticeBook([v1])  # before version 2 shipped
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    browser.sign_out()
    app.extensions[web.NOTICES_EXTENSION] = NoticeBook([v1, v2])  # version 2 deployed
    browser.sign_in_with_passkey(authenticator)
    assert _first_page_after_sign_in(browser) == "/account"
    assert browser.client.get(RENEW).status_code == 302
    assert [(row.action, row.notice_version) for row in ledger(app)] == [("granted", "1")]


def test_stopping_at_the_question_withdraws_and_deletes_the_passkeys(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    response = alice.post_form(
        "/account/passkeys/consent/withdraw", {**notice_fields(app), "source": "reconsent"}
    )
    assert response.status_code == 302
    assert passkey_count(app) == 0
    latest = ledger(app)[-1]
    assert (latest.action, latest.method) == ("withdrawn", "reconsent:stop-using-passkeys-button")


def test_replayed_reconsent_is_refused_and_leaves_the_ledger_unchanged(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    alice.post_form(RENEW, notice_fields(app))
    before = ledger(app)
    assert alice.post_form(RENEW, notice_fields(app)).status_code == 409
    assert ledger(app) == before


def test_reconsent_to_the_old_notice_is_refused(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    old = notice_fields(app)
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    before = ledger(app)
    response = alice.post_form(RENEW, old)
    assert response.status_code == 409
    assert ledger(app) == before


def test_people_without_passkeys_are_not_asked(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock, "bob")
    browser.sign_out()
    publish(app, MATERIAL_NEXT)
    clock.advance(seconds=30)
    browser.sign_in_with_password(account, clock)
    assert _first_page_after_sign_in(browser) == "/account"


def test_reconsent_redirect_keeps_only_local_next_targets(
    app: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    publish(app, MATERIAL_NEXT)
    alice.sign_in_with_passkey(authenticator)
    response = alice.post_form(RENEW, {**notice_fields(app), "next": "https://evil.example/"})
    assert response.headers["Location"] == "/account"
