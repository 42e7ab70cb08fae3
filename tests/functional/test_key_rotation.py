"""Data-key rotation: old TOTP secrets keep working, `flask keys rotate` moves them over,
and afterwards the old key can be dropped."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def test_rotation_keeps_password_and_code_sign_in_working(tmp_path: Path) -> None:
    clock = FrozenClock()
    old, new = _key(), _key()
    first = make_app(tmp_path, clock, DATA_KEY=old)
    account = Browser(first.test_client()).sign_up_with_password(clock)

    rotated = make_app(tmp_path, clock, DATA_KEY=new, DATA_KEY_PREVIOUS=old)
    clock.advance(seconds=30)
    assert Browser(rotated.test_client()).sign_in_with_password(account, clock).status_code == 302
    result = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted under the current key: 1" in result.output

    only_new = make_app(tmp_path, clock, DATA_KEY=new)
    clock.advance(seconds=30)
    assert Browser(only_new.test_client()).sign_in_with_password(account, clock).status_code == 302


def test_without_the_old_key_secrets_do_not_decrypt(tmp_path: Path) -> None:
    clock = FrozenClock()
    first = make_app(tmp_path, clock, DATA_KEY=_key())
    account = Browser(first.test_client()).sign_up_with_password(clock)
    lost = make_app(tmp_path, clock, DATA_KEY=_key())
    clock.advance(seconds=30)
    response = Browser(lost.test_client()).sign_in_with_password(account, clock)
    assert response.status_code == 503  # an operator error, reported as such; never a 500


def test_a_passkey_sign_in_started_before_a_rotation_finishes_after_it(tmp_path: Path) -> None:
    # The challenge travels sealed under a key derived from the data key (decision 0019):
    # a ceremony in flight while the operator rotates keeps working with the old key kept
    # as DATA_KEY_PREVIOUS, and opens to nothing once the old key is gone (one retry).
    clock = FrozenClock()
    old, new = _key(), _key()
    first = make_app(tmp_path, clock, DATA_KEY=old)
    browser = Browser(first.test_client())
    authenticator = SoftwareAuthenticator()
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    browser.sign_out()
    options = browser.sign_in_options()

    rotated = make_app(tmp_path, clock, DATA_KEY=new, DATA_KEY_PREVIOUS=old)
    browser.client.application = rotated  # the same browser, its cookie, the next release
    verified = browser.post_json("/api/passkeys/sign-in/verify", authenticator.get(options))
    assert verified.status_code == 200, verified.get_json()

    browser.sign_out()
    browser.client.application = first
    options = browser.sign_in_options()  # sealed under the old key
    browser.client.application = make_app(tmp_path, clock, DATA_KEY=new)  # old key dropped
    refused = browser.post_json("/api/passkeys/sign-in/verify", authenticator.get(options))
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
