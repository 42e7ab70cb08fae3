"""Web security on every route: headers, cookies and CSRF (issue 9 item 2).

Every response, page or API, success or error, carries a strict Content-Security-Policy
(no inline script, so page data travels in JSON blocks), ``nosniff``, a referrer for this
site only, and a Permissions-Policy that lets only this origin use passkeys. Every
state-changing request needs the CSRF token: a JSON client gets a 400 problem+json, a form
a friendly page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from tests.conftest import Browser, make_app
from tests.functional.passkey_support import (
    SIGN_IN_OPTIONS,
    SIGN_IN_VERIFY,
    Account,
    assert_problem,
    sign_up,
)
from tests.support.authenticator import SoftwareAuthenticator

#: Values for URL arguments when every route is visited.
URL_ARGUMENTS = {"filename": "js/api.js", "version": "1"}


@pytest.fixture
def alice(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Account:
    """Alice, signed in (so the account pages answer with their content)."""
    account = sign_up(app, browser, authenticator, "alice")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    return account


def routes(app: Flask, method: str) -> list[str]:
    adapter = app.url_map.bind("localhost")
    urls = set()
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or set()):
            values = {arg: URL_ARGUMENTS.get(arg, 1) for arg in rule.arguments}
            urls.add(adapter.build(rule.endpoint, values))
    return sorted(urls)


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def assert_security_headers(response: TestResponse, where: str) -> None:
    csp = csp_directives(response)
    assert csp.get("default-src") == ["'self'"], where
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("base-uri") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"], where
    for name, values in csp.items():
        for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"):
            if name == "img-src" and unsafe == "data:":
                continue  # inline SVG icons and QR codes
            assert unsafe not in values, f"{where}: {name} allows {unsafe}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    permissions = response.headers.get("Permissions-Policy", "")
    assert "publickey-credentials-get=(self)" in permissions, where
    assert "publickey-credentials-create=(self)" in permissions, where


# --- headers on every route ----------------------------------------------------------


def test_every_page_a_visitor_can_get_carries_the_security_headers(
    app: Flask, browser: Browser
) -> None:
    for url in routes(app, "GET"):
        assert_security_headers(browser.client.get(url), f"GET {url} (signed out)")


def test_every_page_a_signed_in_person_can_get_carries_the_security_headers(
    app: Flask, alice: Account, browser: Browser
) -> None:
    for url in routes(app, "GET"):
        response = browser.client.get(url)
        assert response.status_code < 500, url
        assert_security_headers(response, f"GET {url} (signed in)")


def test_every_post_route_carries_the_security_headers(
    app: Flask, alice: Account, browser: Browser
) -> None:
    for url in routes(app, "POST"):
        assert_security_headers(browser.client.post(url), f"POST {url}")


@pytest.mark.parametrize(
    ("name", "request_it"),
    [
        ("options", lambda b: b.post_json(SIGN_IN_OPTIONS)),
        ("refusal", lambda b: b.post_json(SIGN_IN_VERIFY, {})),
        ("not-found", lambda b: b.client.get("/no-such-page")),
        ("api-not-found", lambda b: b.client.get("/api/no-such-endpoint")),
        ("wrong-method", lambda b: b.client.get(SIGN_IN_OPTIONS)),
        ("too-large", lambda b: b.post_json(SIGN_IN_VERIFY, {"x": "y" * 70_000})),
        ("wrong-type", lambda b: b.client.post(SIGN_IN_OPTIONS, data="x")),
    ],
)
def test_api_answers_and_errors_carry_the_security_headers(
    browser: Browser, name: str, request_it: Callable[[Browser], TestResponse]
) -> None:
    assert_security_headers(request_it(browser), name)


def test_pages_contain_no_inline_script(app: Flask, alice: Account, browser: Browser) -> None:
    # The CSP forbids inline script; a page that had one would break, so none may exist.
    for url in routes(app, "GET"):
        response = browser.client.get(url)
        if response.mimetype != "text/html":
            continue
        for tag in re.findall(r"<script\b[^>]*>", response.get_data(as_text=True)):
            assert "src=" in tag or 'type="application/json"' in tag, f"{url}: {tag}"
        # Nor inline event handlers (onclick=...), which the CSP would block too.
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", response.get_data(as_text=True)), url


def test_hsts_is_sent_over_https(browser: Browser) -> None:
    response = browser.client.get("/signin", base_url="https://localhost")
    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
    assert max_age >= 365 * 24 * 3600


def test_no_hsts_over_plain_http_on_localhost(browser: Browser) -> None:
    assert "Strict-Transport-Security" not in browser.client.get("/signin").headers


def test_pages_about_a_person_are_not_cached(alice: Account, browser: Browser) -> None:
    assert "no-store" in browser.client.get("/account").headers.get("Cache-Control", "")


# --- cookies -------------------------------------------------------------------------


def session_cookie_header(response: TestResponse, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert headers, f"no {name} cookie set"
    return headers[-1]


def test_development_session_cookie_is_httponly_and_samesite(browser: Browser) -> None:
    header = session_cookie_header(browser.client.get("/signin"), "authdemo")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_production_session_cookie_is_host_prefixed_secure_httponly_samesite(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(
        tmp_path, clock, ENV="production", ORIGIN="https://login.example.com", RP_ID="example.com"
    )
    response = app.test_client().get("/signin", base_url="https://login.example.com")
    header = session_cookie_header(response, "__Host-authdemo")
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Domain=" not in header  # the __Host- prefix requires no Domain


# --- CSRF on every state-changing request ------------------------------------------------


def test_every_post_route_refuses_a_request_without_the_csrf_token(
    app: Flask, alice: Account, browser: Browser
) -> None:
    for url in routes(app, "POST"):
        if url.startswith("/api/"):
            response = browser.client.post(url, json={})
            problem = assert_problem(response, 400)
            assert problem["type"].endswith("/csrf-failed"), url
        else:
            response = browser.client.post(url, data={})
            assert response.status_code == 400, url
            assert response.mimetype == "text/html", url
            assert "This form has expired" in response.get_data(as_text=True), url


def test_json_request_with_a_forged_csrf_token_is_refused(alice: Account, browser: Browser) -> None:
    response = browser.client.post(SIGN_IN_OPTIONS, json={}, headers={"X-CSRFToken": "forged"})
    assert assert_problem(response, 400)["type"].endswith("/csrf-failed")


def test_csrf_token_of_another_browser_is_refused(
    app: Flask, browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    other = new_browser()
    response = browser.client.post(SIGN_IN_OPTIONS, json={}, headers={"X-CSRFToken": other.csrf})
    assert assert_problem(response, 400)["type"].endswith("/csrf-failed")


def test_form_with_a_forged_csrf_token_gets_a_friendly_page(browser: Browser) -> None:
    response = browser.client.post("/signup", data={"username": "alice", "csrf_token": "x"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Please reload the page and try again." in response.get_data(as_text=True)
