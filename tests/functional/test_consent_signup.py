"""Consent at sign-up: explicit opt-in on the notice the page showed, recorded with the
account; "No thanks" recorded too, and never followed by nagging; forged posts refused
with the ledger unchanged (GDPR Art 7, EDPB Guidelines 05/2020)."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.consent.notices import notice_sha256
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import Browser
from tests.functional.passkey_support import cookie_session
from tests.functional.test_consent_support import (
    MATERIAL_NEXT,
    consent_body,
    current_notice,
    ledger,
    notice_fields,
    page,
    publish,
    sign_up_with_passkey,
    user_id,
)
from tests.support.authenticator import SoftwareAuthenticator

OPTIONS = "/api/passkeys/sign-up/options"
VERIFY = "/api/passkeys/sign-up/verify"
DECLINE = "/signup/no-passkey"


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


# --- the opt-in screen ---------------------------------------------------------------


def test_opt_in_screen_shows_the_notice_word_for_word_from_its_single_source(
    app: Flask, browser: Browser
) -> None:
    browser.choose_username("alice")
    text = html.unescape(page(browser, "/signup/how"))
    notice = current_notice(app)
    assert notice.title in text
    for block in notice.blocks:
        for words in block.items or (block.text,):
            assert words in text
    assert f'name="notice_version" value="{notice.version}"' in text
    assert f'name="notice_sha256" value="{notice.sha256}"' in text


def test_notice_says_what_is_stored_that_nothing_biometric_is_sent_and_who_else_keeps_it(
    app: Flask,
) -> None:
    text = current_notice(app).text
    assert "never sent to us and we never store them" in text
    assert "public key and credential ID" in text
    assert "also stores it, together with your username" in text
    assert "Security keys are passkeys too" in text


def test_consent_box_is_unticked_and_no_thanks_is_as_prominent(browser: Browser) -> None:
    browser.choose_username("alice")
    text = page(browser, "/signup/how")
    checkbox = re.search(r'<input type="checkbox" id="passkey-consent"[^>]*>', text)
    assert checkbox is not None
    assert "checked" not in checkbox.group(0)
    assert 'class="button primary" id="create-passkey"' in text
    assert 'class="button primary" id="use-password"' in text


# --- granting ------------------------------------------------------------------------


def test_passkey_sign_up_records_consent_with_the_notice_version_and_hash_shown(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    notice = current_notice(app)
    [row] = ledger(app)
    assert row.user_ref == user_id(app, "alice")
    assert (row.purpose, row.action) == ("passkey_signin", "granted")
    assert (row.notice_version, row.notice_sha256) == (notice.version, notice.sha256)
    assert row.notice_sha256 == notice_sha256(notice.full_text)
    assert row.method == "signup:passkey-consent-checkbox"


def test_consent_is_recorded_only_once_the_account_exists(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.choose_username("alice")
    options = browser.post_json(OPTIONS, consent_body(app))
    assert options.status_code == 200
    assert ledger(app) == []
    refused = browser.post_json(
        VERIFY, authenticator.create(options.get_json(), user_verified=False)
    )
    assert refused.status_code == 400
    assert ledger(app) == []
    assert _count(app, User) == 0


def test_options_without_the_tick_are_refused_and_start_nothing(
    app: Flask, browser: Browser
) -> None:
    browser.choose_username("alice")
    response = browser.post_json(OPTIONS, {**notice_fields(app), "consent": False})
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/consent-required")
    assert "ceremony" not in cookie_session(app, browser), "a ceremony was started"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        pytest.param({"notice_version": "0"}, "unknown-notice", id="unknown-version"),
        pytest.param({"notice_version": 1}, "unknown-notice", id="version-not-a-string"),
        pytest.param({"notice_sha256": "0" * 64}, "notice-mismatch", id="tampered-hash"),
        pytest.param({"notice_sha256": None}, "unknown-notice", id="missing-hash"),
        pytest.param({"user_id": "someone-else"}, "unexpected-field", id="another-users-id"),
    ],
)
def test_forged_consent_is_refused_with_the_ledger_unchanged(
    app: Flask,
    browser: Browser,
    authenticator: SoftwareAuthenticator,
    fields: dict[str, object],
    problem: str,
) -> None:
    browser.choose_username("alice")
    body = {**consent_body(app), **fields}
    response = browser.post_json(OPTIONS, {k: v for k, v in body.items() if v is not None})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("/" + problem)
    assert "ceremony" not in cookie_session(app, browser), "a ceremony was started"
    assert ledger(app) == []


def test_consent_to_a_superseded_notice_is_refused_with_409(app: Flask, browser: Browser) -> None:
    shown = current_notice(app)  # the page was loaded before the new version went live
    publish(app, MATERIAL_NEXT)
    browser.choose_username("alice")
    response = browser.post_json(OPTIONS, consent_body(app, shown))
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("/notice-changed")
    assert ledger(app) == []


def test_consent_post_without_the_csrf_token_is_refused(app: Flask, browser: Browser) -> None:
    browser.choose_username("alice")
    response = browser.client.post(OPTIONS, json=consent_body(app))
    assert response.status_code == 400
    assert "ceremony" not in cookie_session(app, browser), "a ceremony was started"
    assert ledger(app) == []


# --- declining -------------------------------------------------------------------------


def _decline_then_sign_up_with_password(
    app: Flask, browser: Browser, clock: FrozenClock, username: str = "bob"
) -> None:
    browser.choose_username(username)
    response = browser.post_form(DECLINE, notice_fields(app))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signup/password")
    browser.sign_up_with_password(clock, username)


def test_no_thanks_then_password_sign_up_works_and_records_the_decline(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    _decline_then_sign_up_with_password(app, browser, clock)
    assert "Hello" in page(browser, "/account")
    [row] = ledger(app)
    assert row.user_ref == user_id(app, "bob")
    assert (row.action, row.notice_version) == ("declined", current_notice(app).version)
    assert row.method == "signup:no-thanks-button"


def test_a_person_who_declined_is_not_asked_again_before_the_reask_interval(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("bob")
    browser.post_form(DECLINE, notice_fields(app))
    account = browser.sign_up_with_password(clock, "bob")
    days = app.extensions["authdemo.settings"].CONSENT_REASK_DAYS
    assert 'id="passkey-invite"' not in page(browser, "/account")

    clock.advance(days=days, seconds=-60)
    browser.sign_out()
    assert browser.sign_in_with_password(account, clock).status_code == 302
    assert 'id="passkey-invite"' not in page(browser, "/account")

    clock.advance(seconds=120)
    browser.sign_out()
    assert browser.sign_in_with_password(account, clock).status_code == 302
    assert 'id="passkey-invite"' in page(browser, "/account")


def test_password_sign_up_without_a_decision_is_invited_once_signed_in(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "bob")
    assert ledger(app) == []
    assert 'id="passkey-invite"' in page(browser, "/account")


def test_decline_with_a_tampered_notice_is_refused_and_nothing_is_recorded(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("bob")
    forged = {**notice_fields(app), "notice_sha256": "f" * 64}
    response = browser.post_form(DECLINE, forged)
    assert response.status_code == 400
    browser.sign_up_with_password(clock, "bob")
    assert ledger(app) == []


def test_a_decline_is_not_recorded_for_another_account_signing_in_in_this_browser(
    app: Flask, browser: Browser, new_browser, clock: FrozenClock
) -> None:
    other = new_browser()
    carol = other.sign_up_with_password(clock, "carol")
    clock.advance(seconds=30)
    browser.choose_username("bob")
    browser.post_form(DECLINE, notice_fields(app))
    assert browser.sign_in_with_password(carol, clock).status_code == 302
    assert ledger(app) == []


def test_changing_ones_mind_after_no_thanks_records_only_the_consent(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.choose_username("alice")
    browser.post_form(DECLINE, notice_fields(app))
    assert sign_up_with_passkey(app, browser, authenticator).status_code == 200
    assert [row.action for row in ledger(app)] == ["granted"]


def test_opt_in_partial_for_other_pages_renders_the_notice_and_an_unticked_box(
    app: Flask,
) -> None:
    """``consent/_opt_in.html`` is what any page that creates a passkey includes."""
    from flask import render_template_string

    with app.test_request_context("/"):
        text = render_template_string('<form>{% include "consent/_opt_in.html" %}</form>')
    notice = current_notice(app)
    assert 'id="passkey-notice"' in text
    assert f'name="notice_sha256" value="{notice.sha256}"' in text
    checkbox = re.search(r'<input type="checkbox" id="passkey-consent"[^>]*>', text)
    assert checkbox is not None
    assert "checked" not in checkbox.group(0)
