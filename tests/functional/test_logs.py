"""Logs never carry secrets or personal data: complete sign-up, sign-in, fallback, export
and erasure flows are run with every logger at DEBUG, and nothing sensitive appears."""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.logging_setup import JsonFormatter, RequestIdFilter
from tests.conftest import Browser, make_app, totp_code
from tests.support.authenticator import SoftwareAuthenticator

CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _session_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie("authdemo")
    return cookie.value if cookie else ""


def test_no_secret_or_personal_data_reaches_the_logs(
    app: Flask, new_browser, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: dict[str, str] = {}

    # Passkey sign-up and sign-in, with one failure on the way.
    passkey_person = new_browser()
    authenticator = SoftwareAuthenticator()
    assert passkey_person.sign_up_with_passkey(authenticator, "logpasskey").status_code == 200
    credential = authenticator.credentials[-1]
    secrets["passkey username"] = "logpasskey"
    secrets["credential id"] = credential.id_b64url
    secrets["public key"] = _b64(credential.public_key)
    secrets["user handle"] = _b64(credential.user_handle)
    passkey_person.sign_out()
    options = passkey_person.sign_in_options()
    secrets["challenge"] = options["challenge"]
    bad = authenticator.get(options, bad_signature=True)
    assert passkey_person.post_json("/api/passkeys/sign-in/verify", bad).status_code == 400
    assert passkey_person.sign_in_with_passkey(authenticator).status_code == 200
    secrets["session cookie"] = _session_cookie(passkey_person)

    # Password + code: sign-up, a wrong attempt, a recovery code.
    password_person = new_browser()
    account = password_person.sign_up_with_password(clock, username="logpassword")
    secrets.update(
        {
            "password username": account.username,
            "password": account.password,
            "totp key": account.totp_key,
            "recovery code": account.recovery_codes[0],
        }
    )
    password_person.sign_out()
    clock.advance(seconds=30)
    assert password_person.sign_in_with_password(account, clock, code="999999").status_code == 401
    secrets["one-time code"] = totp_code(account.totp_key, clock)
    assert password_person.sign_in_with_password(account, clock).status_code == 302
    recovering = new_browser()
    recovering.post_form(
        "/signin/recovery",
        {"username": account.username, "recovery_code": account.recovery_codes[0]},
    )

    # Export and erasure (signed in moments ago, so no step-up is needed).
    export = password_person.client.get("/api/privacy/export")
    assert export.status_code == 200
    page = password_person.client.get("/privacy/delete").get_data(as_text=True)
    match = CONFIRMATION.search(page)
    assert match
    erased = password_person.post_form(
        "/privacy/delete", {"confirmation": match.group(1), "confirm_username": account.username}
    )
    assert erased.status_code == 200

    text = caplog.text + "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    for name, value in secrets.items():
        assert value, f"the test did not capture the {name}"
        assert value not in text, f"the {name} appears in the logs"


def test_production_logs_are_one_json_object_per_line_with_a_request_id(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    formatter = JsonFormatter()
    request_ids = RequestIdFilter()
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc123"
        record = logging.LogRecord(
            "authdemo.x", logging.ERROR, __file__, 1, "hello %s", ("you",), None
        )
        request_ids.filter(record)
        line = formatter.format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello you"
    assert entry["request_id"] == "abc123"
    assert entry["level"] == "ERROR"


def test_every_response_carries_a_request_id(app: Flask) -> None:
    response = app.test_client().get("/signin")
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])


def test_production_apps_log_json(tmp_path: Path) -> None:
    make_app(
        tmp_path,
        ENV="production",
        SECRET_KEY="s" * 48,
        ORIGIN="https://login.example.com",
        RP_ID="example.com",
    )
    handlers = [h for h in logging.getLogger("authdemo").handlers if h.get_name() == "authdemo"]
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, JsonFormatter)
