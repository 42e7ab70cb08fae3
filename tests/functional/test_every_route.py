"""Web security on every route the app has, found by walking ``app.url_map``.

Issue 9 item 2 (OWASP ASVS 5.0 V3.4 headers, V3.5 CSRF, V3.3 cookies, V3.7 redirects).
A route added tomorrow is covered without anyone remembering to add it here:

- every answer (GET pages signed out and signed in, state-changing requests refused for
  want of a CSRF token) carries the Content-Security-Policy, ``X-Content-Type-Options``,
  ``Referrer-Policy`` and ``Permissions-Policy``; HSTS on https, never on http;
- every state-changing route (POST, PUT, PATCH, DELETE) refuses a form or a JSON body
  without the session's CSRF token, or with another session's, with a 4xx, and changes
  nothing;
- in production the session cookie is ``__Host-``, ``Secure``, ``HttpOnly``, ``SameSite``;
- ``next=`` sends people only to a path on this site, wherever it is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from authdemo.consent.web import current_notice
from authdemo.extensions import db
from authdemo.models import Passkey, UserSession
from tests.conftest import Browser, make_app, totp_code
from tests.functional.passkey_support import snapshot
from tests.support.authenticator import SoftwareAuthenticator

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
HTTPS = "https://localhost"
#: One year is the minimum HSTS preload lists accept.
HSTS_MIN_AGE = 365 * 24 * 60 * 60
UNSAFE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"}

#: What open redirects are made of (OWASP Unvalidated Redirects Cheat Sheet).
FOREIGN_TARGETS = [
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "https:evil.example",
    "\x00//evil.example",
]


# --- walking the routes -------------------------------------------------------------------


def rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def url_for_rule(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    """A URL for ``rule`` with sample values for its arguments (e.g. ``<int:passkey_id>``)."""
    arguments = {name: values.get(name, 1) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, arguments, force_external=False)


def sample_values(app: Flask) -> dict[str, Any]:
    """Argument values that point at real rows when there are some."""
    with app.app_context():
        passkey_id = db.session.execute(select(Passkey.id).limit(1)).scalar()
        session_id = db.session.execute(select(UserSession.id).limit(1)).scalar()
        return {
            "passkey_id": passkey_id or 1,
            "session_id": session_id or 1,
            "version": current_notice().version,
            "filename": "js/api.js",
        }


def get_routes(app: Flask) -> list[Rule]:
    return [rule for rule in rules(app) if "GET" in (rule.methods or set())]


def state_changing_routes(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in rules(app)
        for method in sorted((rule.methods or set()) & STATE_CHANGING)
    ]


@pytest.fixture
def signed_in(app: Flask, browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    return browser


def visit_every_page(app: Flask, browser: Browser) -> Iterator[tuple[str, TestResponse]]:
    values = sample_values(app)
    for rule in get_routes(app):
        url = url_for_rule(app, rule, values)
        yield url, browser.client.get(url)


def refuse_every_state_change(app: Flask, browser: Browser) -> Iterator[tuple[str, TestResponse]]:
    """Each state-changing route, sent a form and a JSON body without a CSRF token."""
    values = sample_values(app)
    for rule, method in state_changing_routes(app):
        url = url_for_rule(app, rule, values)
        yield f"{method} {url} form", browser.client.open(url, method=method, data={"a": "b"})
        yield f"{method} {url} json", browser.client.open(url, method=method, json={})


# --- headers --------------------------------------------------------------------------------


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policies = response.headers.getlist("Content-Security-Policy")
    assert len(policies) == 1, f"expected one Content-Security-Policy, got {policies}"
    directives: dict[str, list[str]] = {}
    for part in policies[0].split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def permissions(response: TestResponse) -> dict[str, str]:
    header = response.headers.get("Permissions-Policy", "")
    return dict(item.strip().split("=", 1) for item in header.split(",") if "=" in item)


def assert_security_headers(where: str, response: TestResponse) -> None:
    csp = csp_directives(response)
    assert csp.get("default-src") == ["'self'"], where
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("base-uri") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"], where
    for name, sources in csp.items():
        assert not UNSAFE_SOURCES & set(sources), f"{where}: {name} {sources}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    policy = permissions(response)
    assert policy.get("publickey-credentials-get") == "(self)", where
    assert policy.get("publickey-credentials-create") == "(self)", where


def test_the_walk_finds_pages_and_state_changing_routes(app: Flask) -> None:
    # Guards the walk itself: if it found nothing, every test below would pass vacuously.
    assert {"/", "/signin", "/signup", "/account"} <= {rule.rule for rule in get_routes(app)}
    changing = {(rule.rule, method) for rule, method in state_changing_routes(app)}
    assert {("/signout", "POST"), ("/api/passkeys/sign-in/verify", "POST")} <= changing


def test_every_page_has_the_security_headers_when_signed_out(app: Flask, browser: Browser) -> None:
    for url, response in visit_every_page(app, browser):
        assert_security_headers(f"GET {url} -> {response.status_code}", response)


def test_every_page_has_the_security_headers_when_signed_in(app: Flask, signed_in: Browser) -> None:
    for url, response in visit_every_page(app, signed_in):
        assert_security_headers(f"GET {url} -> {response.status_code}", response)


def test_every_refused_state_change_has_the_security_headers(app: Flask, browser: Browser) -> None:
    for where, response in refuse_every_state_change(app, browser):
        assert_security_headers(f"{where} -> {response.status_code}", response)


def test_not_found_and_wrong_method_answers_have_the_security_headers(
    app: Flask, browser: Browser
) -> None:
    assert_security_headers("404", browser.client.get("/no-such-page"))
    assert_security_headers("405", browser.client.delete("/signin"))


def test_every_wrong_method_answer_says_which_methods_are_allowed(
    app: Flask, browser: Browser
) -> None:
    # RFC 9110 §15.5.6: a 405 response MUST carry an Allow header.
    values = sample_values(app)
    for rule in rules(app):
        allowed = (rule.methods or set()) - {"OPTIONS"}
        wrong = next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in allowed)
        url = url_for_rule(app, rule, values)
        response = browser.client.open(url, method=wrong)
        assert response.status_code == 405, f"{wrong} {url}"
        offered = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        assert allowed <= offered, f"{wrong} {url}: Allow {offered}"
        assert_security_headers(f"{wrong} {url}", response)


@pytest.fixture
def production(tmp_path: Path) -> Flask:
    """A production configuration served at https://localhost."""
    return make_app(tmp_path, ENV="production", ORIGIN=HTTPS, RP_ID="localhost")


def hsts_max_age(response: TestResponse) -> int:
    header = response.headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", header)
    assert match, f"no HSTS max-age in {header!r}"
    return int(match.group(1))


def test_every_page_over_https_has_hsts_of_at_least_a_year(production: Flask) -> None:
    client = production.test_client()
    for rule in get_routes(production):
        url = url_for_rule(production, rule, sample_values(production))
        response = client.get(url, base_url=HTTPS)
        assert hsts_max_age(response) >= HSTS_MIN_AGE, url
        assert_security_headers(f"https GET {url}", response)


@pytest.mark.parametrize("config", ["production", "development"])
def test_no_page_over_http_has_hsts(tmp_path: Path, config: str) -> None:
    # RFC 6797 §7.2: HSTS sent over plain http is ignored, and says the wrong thing.
    overrides = {"ENV": "production", "ORIGIN": HTTPS} if config == "production" else {}
    app = make_app(tmp_path, **overrides)
    client = app.test_client()
    for rule in get_routes(app):
        url = url_for_rule(app, rule, sample_values(app))
        assert "Strict-Transport-Security" not in client.get(url).headers, url


# --- CSRF -----------------------------------------------------------------------------------


def assert_refused_and_nothing_changed(app: Flask, attempts: Iterator[tuple[str, Any]]) -> None:
    before = snapshot(app)
    for where, response in attempts:
        assert 400 <= response.status_code < 500, f"{where}: {response.status_code}"
        if urlsplit(where.split()[1]).path.startswith("/api/"):
            assert response.mimetype == "application/problem+json", where
    after = snapshot(app)
    assert after.tables == before.tables
    assert after.audit == before.audit
    assert after.used_challenges == before.used_challenges


def test_every_state_change_without_a_csrf_token_is_refused_when_signed_out(
    app: Flask, browser: Browser
) -> None:
    assert_refused_and_nothing_changed(app, refuse_every_state_change(app, browser))


def test_every_state_change_without_a_csrf_token_is_refused_when_signed_in(
    app: Flask, signed_in: Browser
) -> None:
    assert_refused_and_nothing_changed(app, refuse_every_state_change(app, signed_in))
    assert signed_in.client.get("/account").status_code == 200, "still signed in"


def test_every_state_change_with_another_sessions_csrf_token_is_refused(
    app: Flask, signed_in: Browser, new_browser: Any
) -> None:
    stranger = new_browser().csrf
    values = sample_values(app)

    def attempts() -> Iterator[tuple[str, TestResponse]]:
        for rule, method in state_changing_routes(app):
            url = url_for_rule(app, rule, values)
            form = {"csrf_token": stranger}
            yield (
                f"{method} {url} form",
                signed_in.client.open(url, method=method, data=form),
            )
            yield (
                f"{method} {url} json",
                signed_in.client.open(
                    url, method=method, json={}, headers={"X-CSRFToken": stranger}
                ),
            )

    assert_refused_and_nothing_changed(app, attempts())


def test_csrf_refusal_of_a_json_request_is_a_problem_document(browser: Browser) -> None:
    response = browser.client.post("/api/passkeys/sign-in/options", json={})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("/csrf-failed")


def test_csrf_refusal_of_a_form_is_a_page(browser: Browser) -> None:
    response = browser.client.post("/signup", data={"username": "ada"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


# --- the session cookie -----------------------------------------------------------------------


def set_cookie_attributes(response: TestResponse, name: str) -> dict[str, str]:
    for header in response.headers.getlist("Set-Cookie"):
        cookie_name, _, rest = header.partition("=")
        if cookie_name == name:
            attributes = {}
            for part in rest.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value
            return attributes
    raise AssertionError(f"no Set-Cookie for {name}")


def test_production_session_cookie_is_host_only_secure_httponly_samesite(
    production: Flask,
) -> None:
    response = production.test_client().get("/signin", base_url=HTTPS)
    attributes = set_cookie_attributes(response, "__Host-authdemo")
    # __Host-: Secure, Path=/ and no Domain, so no subdomain can set or read it (RFC 6265bis).
    assert "secure" in attributes
    assert attributes.get("path") == "/"
    assert "domain" not in attributes
    assert "httponly" in attributes
    assert attributes.get("samesite", "").lower() in {"lax", "strict"}


def test_production_sign_in_cookie_has_the_same_attributes(tmp_path: Path) -> None:
    app = make_app(tmp_path, ENV="production", ORIGIN=HTTPS, RP_ID="localhost")
    client = app.test_client()
    client.get("/signin", base_url=HTTPS)
    token = re.search(r'"csrfToken": "([^"]+)"', client.get("/signup", base_url=HTTPS).text)
    assert token
    response = client.post(
        "/signup",
        data={"csrf_token": token.group(1), "username": "ada"},
        base_url=HTTPS,
    )
    assert response.status_code == 302
    attributes = set_cookie_attributes(response, "__Host-authdemo")
    assert {"secure", "httponly", "samesite"} <= set(attributes)


# --- next= ----------------------------------------------------------------------------------


def is_local(location: str) -> bool:
    """Whether a browser would stay on this site (WHATWG URL: tabs and newlines removed,
    C0 controls and spaces stripped at the ends, backslash read as a slash)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(0x21))))
    cleaned = cleaned.replace("\\", "/")
    parts = urlsplit(cleaned)
    return cleaned.startswith("/") and not cleaned.startswith("//") and not parts.netloc


def test_is_local_recognises_every_foreign_target() -> None:
    assert not any(is_local(target) for target in FOREIGN_TARGETS)
    assert is_local("/privacy?tab=export")


#: Each foreign target and where it must lead instead, with a local one that is kept.
#: One account per test goes through them all (signing up is the slow part).
TARGETS = [("/privacy", "/privacy"), *((target, "/account") for target in FOREIGN_TARGETS)]


def test_passkey_sign_in_goes_only_to_a_local_next(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    for target, expected in TARGETS:
        assert browser.sign_out().status_code == 302
        browser.client.get("/signin", query_string={"next": target})
        response = browser.sign_in_with_passkey(authenticator)
        assert response.status_code == 200, target
        assert response.get_json()["redirect"] == expected, target


def test_password_sign_in_goes_only_to_a_local_next(browser: Browser, clock: Any) -> None:
    account = browser.sign_up_with_password(clock, "bob")
    for target, expected in TARGETS:
        assert browser.sign_out().status_code == 302
        clock.advance(seconds=30)  # a fresh one-time code
        browser.client.get("/signin", query_string={"next": target})
        response = browser.sign_in_with_password(account, clock)
        assert response.status_code == 302, target
        assert response.headers["Location"] == expected, target


def test_step_up_page_offers_only_a_local_next(signed_in: Browser) -> None:
    for target, expected in TARGETS:
        page = signed_in.client.get("/reauth", query_string={"next": target})
        assert page.status_code == 200, target
        assert f'"next": "{expected}"' in page.text, f"{target}: page data"
        assert "evil.example" not in page.text, target


def test_step_up_with_password_goes_only_to_a_local_next(browser: Browser, clock: Any) -> None:
    account = browser.sign_up_with_password(clock, "bob")
    for target, expected in TARGETS:
        clock.advance(seconds=30)
        code = totp_code(account.totp_key, clock)
        response = browser.post_form(
            "/reauth/password", {"password": account.password, "code": code, "next": target}
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == expected, target


def test_consent_renewal_goes_only_to_a_local_next(signed_in: Browser) -> None:
    for target, expected in TARGETS:
        response = signed_in.client.get(
            "/account/passkeys/consent/renew", query_string={"next": target}
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == expected, target


def test_step_up_with_a_passkey_goes_only_to_a_local_next(
    signed_in: Browser, authenticator: SoftwareAuthenticator
) -> None:
    for target, expected in TARGETS:
        options = signed_in.post_json("/api/reauth/options").get_json()
        response = signed_in.post_json(
            "/api/reauth/verify", {**authenticator.get(options), "next": target}
        )
        assert response.status_code == 200, (target, response.get_json())
        assert response.get_json()["redirect"] == expected, target


def test_every_redirect_the_walk_meets_is_local(app: Flask, signed_in: Browser) -> None:
    for url, response in visit_every_page(app, signed_in):
        if 300 <= response.status_code < 400:
            assert is_local(response.headers["Location"]), (url, response.headers["Location"])
