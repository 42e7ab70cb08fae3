"""Consent holds to the end of a ceremony, and switches also cover step-up."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator


def test_withdrawal_during_an_add_passkey_ceremony_stops_it(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    first = SoftwareAuthenticator()
    browser.sign_up_with_passkey(first)
    options = browser.post_json("/api/passkeys/add/options", browser.consent())
    assert options.status_code == 200
    second = SoftwareAuthenticator()
    credential = second.create(options.get_json())
    # Withdraw in another tab, then finish the ceremony started before.
    page = browser.client.get("/account/passkeys/consent").get_data(as_text=True)
    fields = dict(re.findall(r'name="(notice_version|notice_sha256|source)" value="([^"]+)"', page))
    withdrawn = browser.post_form("/account/passkeys/consent/withdraw", fields)
    assert withdrawn.status_code in {302, 303}
    response = browser.post_json("/api/passkeys/add/verify", credential)
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/consent-required")


def test_passkey_step_up_follows_the_sign_in_switch_where_a_password_can_confirm(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # An account with a password + code steps up with that while passkey sign-in is off;
    # a passkey-only account's passkey still confirms in its session (decision 0013,
    # tests/functional/test_old_session_takeover.py).
    on = make_app(tmp_path, clock)
    browser = Browser(on.test_client())
    browser.sign_up_with_password(clock, "gail")
    options = browser.post_json("/api/passkeys/add/options", browser.consent())
    credential = SoftwareAuthenticator().create(options.get_json())
    assert browser.post_json("/api/passkeys/add/verify", credential).status_code == 200
    off = make_app(tmp_path, clock, PASSKEY_SIGNIN_ENABLED=False)
    switched = Browser(off.test_client())
    cookie = browser.client.get_cookie("authdemo")
    assert cookie is not None
    switched.client.set_cookie("authdemo", cookie.value)  # the same browser, after a restart
    response = switched.post_json("/api/reauth/options")
    assert response.status_code == 403
    assert response.get_json()["type"].endswith("feature-disabled")
