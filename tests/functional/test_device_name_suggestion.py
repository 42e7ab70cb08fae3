"""Sessions you can tell apart (issue 17 item 12): the device-name field is pre-filled
with a coarse suggestion from the User-Agent (browser and platform only, parsed by
ua-parser), stored only if the person saves it; the raw User-Agent is never stored or
logged.

Each browser here sends a User-Agent as that browser does (werkzeug's test client sends
its own otherwise); the Chromium test in tests/e2e sends Chromium's own."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import Browser, sqlite_file_bytes, uses_sqlite
from tests.functional.account_pages import text_of
from tests.functional.test_account_sessions import sessions_of
from tests.functional.test_privacy_by_default import every_value
from tests.support.authenticator import SoftwareAuthenticator

#: An Android phone's Chrome, with a build id no one else sends.
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/ZEBRAFINCH.240605) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
#: What of the raw User-Agent must never be kept: the model, the build, the versions.
FINE_GRAINED = ("Pixel 8", "ZEBRAFINCH", "126.0.6478", "Android 14")


def field_value(html: str) -> str:
    match = re.search(r'<input id="device_label"[^>]*value="([^"]*)"', html, re.S)
    assert match is not None
    return match.group(1)


def phone(app: Flask, user_agent: str) -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["HTTP_USER_AGENT"] = user_agent
    return browser


@pytest.mark.parametrize(
    ("user_agent", "suggestion"),
    [(ANDROID_CHROME, "Chrome on Android"), (IPHONE_SAFARI, "Safari on iOS")],
)
def test_the_device_name_field_suggests_browser_and_platform_and_stores_nothing(
    app: Flask, user_agent: str, suggestion: str
) -> None:
    person = phone(app, user_agent)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "alice").status_code == 200

    page = person.client.get("/account/sessions")

    assert field_value(page.get_data(as_text=True)) == suggestion
    assert f"We suggest “{suggestion}”" in text_of(page, "device-label-hint")
    assert [s.device_label for s in sessions_of(app, "alice")] == [None]


def test_the_suggestion_is_kept_only_when_the_person_saves_it(app: Flask) -> None:
    person = phone(app, ANDROID_CHROME)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "alice").status_code == 200
    html = person.client.get("/account/sessions").get_data(as_text=True)

    saved = person.post_form("/account/sessions/device-label", {"device_label": field_value(html)})

    assert saved.status_code == 302
    assert [s.device_label for s in sessions_of(app, "alice")] == ["Chrome on Android"]
    page = person.client.get("/account/sessions")
    assert "Chrome on Android" in text_of(page, f"session-{sessions_of(app, 'alice')[0].id}-name")


def test_a_saved_name_is_shown_not_the_suggestion(app: Flask) -> None:
    person = phone(app, IPHONE_SAFARI)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "alice").status_code == 200
    assert (
        person.post_form("/account/sessions/device-label", {"device_label": "My phone"}).status_code
        == 302
    )

    html = person.client.get("/account/sessions").get_data(as_text=True)

    assert field_value(html) == "My phone"
    assert "We suggest" not in html


@pytest.mark.parametrize(
    "user_agent", ["", "curl/8.5.0", "x" * 4096, "Mozilla/5.0 (" + "A" * 600 + ")"]
)
def test_an_unknown_or_odd_user_agent_suggests_nothing(app: Flask, user_agent: str) -> None:
    person = phone(app, user_agent)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "alice").status_code == 200

    page = person.client.get("/account/sessions")

    assert page.status_code == 200
    assert field_value(page.get_data(as_text=True)) == ""


def test_no_column_or_log_holds_the_user_agent(
    app: Flask, clock: FrozenClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person = phone(app, ANDROID_CHROME)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "alice").status_code == 200
    html = person.client.get("/account/sessions").get_data(as_text=True)
    person.post_form("/account/sessions/device-label", {"device_label": field_value(html)})
    assert [s.device_label for s in sessions_of(app, "alice")] == ["Chrome on Android"]
    other = phone(app, ANDROID_CHROME)
    account = other.sign_up_with_password(clock, "bob")
    assert other.client.get("/account/sessions").status_code == 200

    values = every_value(app)
    assert "'Chrome on Android'" in values  # what alice saved, and nothing finer
    assert [v for v in values if any(part in v for part in FINE_GRAINED)] == []
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert [part for part in FINE_GRAINED if part in logged] == []
    assert "Chrome on Android" not in logged
    if uses_sqlite(app):
        raw = sqlite_file_bytes(app, tmp_path)
        assert [part for part in FINE_GRAINED if part.encode() in raw] == []
    assert account.username == "bob"
