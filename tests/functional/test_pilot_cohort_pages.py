"""The pilot cohort in the running app (issue 20 item 2; docs/rollout.md): outside the
pilot, passkey enrolment is not offered and is refused with the plain reason; inside it,
it is; narrowing the pilot disables nothing."""

from __future__ import annotations

import html
from pathlib import Path

from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.consent.rollout import NOT_IN_PILOT
from authdemo.pilot import cohort
from authdemo.pilot import web as pilot_web
from tests.conftest import Browser, make_app
from tests.functional.test_consent_support import (
    consent_body,
    page,
    sign_up_with_passkey,
)
from tests.support.authenticator import SoftwareAuthenticator


def a_username(app: Flask, placed: cohort.Cohort) -> str:
    """The first of user0, user1, ... whose pending sign-up the app places in ``placed``."""
    with app.app_context():
        for i in range(1000):
            name = f"user{i}"
            keyed, percent = pilot_web.cohort_key(), app.extensions["authdemo.settings"]
            found = cohort.cohort_of(keyed, percent.PASSKEY_PILOT_PERCENT, username=name)
            if found is placed:
                return name
    raise AssertionError("no such username among the first 1000")


def test_a_sign_up_outside_the_pilot_is_told_why_and_refused_a_passkey(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    browser = Browser(app.test_client())
    browser.choose_username(a_username(app, cohort.Cohort.OUTSIDE))
    text = html.unescape(page(browser, "/signup/how"))
    assert NOT_IN_PILOT in text
    assert 'id="passkey-consent"' not in text
    assert 'id="use-password"' in text
    refused = browser.post_json("/api/passkeys/sign-up/options", consent_body(app))
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == NOT_IN_PILOT


def test_a_sign_up_inside_the_pilot_is_offered_a_passkey(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="10")
    browser = Browser(app.test_client())
    name = a_username(app, cohort.Cohort.PILOT)
    browser.choose_username(name)
    assert 'id="passkey-consent"' in page(browser, "/signup/how")
    browser.client.get("/signup")  # start over, as a person would
    assert sign_up_with_passkey(app, browser, authenticator, name).status_code == 200


def test_narrowing_the_pilot_disables_nothing(
    tmp_path: Path, clock: FrozenClock, authenticator: SoftwareAuthenticator
) -> None:
    """At 0 % an account that already has a passkey keeps signing in with it and may add
    a second one (the advice against lock-out); one without a passkey is told why not."""
    everyone = make_app(tmp_path, clock)
    browser = Browser(everyone.test_client())
    sign_up_with_passkey(everyone, browser, authenticator)
    browser.sign_out()

    nobody = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="0")
    browser = Browser(nobody.test_client())
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    assert browser.post_json("/api/passkeys/add/options", consent_body(nobody)).status_code == 200

    other = Browser(nobody.test_client())
    other.sign_up_with_password(clock, "bob")
    assert NOT_IN_PILOT in html.unescape(page(other, "/account"))
