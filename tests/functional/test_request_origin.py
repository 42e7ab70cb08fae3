"""Where a state-changing request comes from: the origin half of the CSRF defence.

Issue 15 item 1, docs/decisions/0014-referrer-policy-and-origin-check.md. These tests set
``Origin`` and ``Sec-Fetch-Site`` by hand on purpose: those headers are what they test.
That a real browser sends this site's origin on its own forms and fetches, under the
``Referrer-Policy`` the app chose, is shown in Chromium by
``tests/e2e/test_browser_origin.py`` and, over HTTPS behind nginx, by ``tests/deployed/``.

Every state-changing route is found by walking ``app.url_map``, so a route added later
is covered too. Each attempt carries the session's own valid CSRF token: a refusal here
is the origin check's, and the token alone would have let the request through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import ORIGIN, Browser, make_app
from tests.functional.passkey_support import snapshot
from tests.functional.test_every_route import sample_values, state_changing_routes, url_for_rule
from tests.support.authenticator import SoftwareAuthenticator

HTTPS = "https://localhost"
#: What another site can make a browser send: its own origin, or ``null`` (a sandboxed
#: frame, a ``data:`` page, a cross-origin redirect). Near misses of ours are foreign too.
FOREIGN_ORIGINS = [
    "https://evil.example",
    "null",
    "http://localhost:5001",
    "https://localhost:5000",
    "http://localhost:5000.evil.example",
]
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')


@pytest.fixture
def signed_in(browser: Browser, authenticator: SoftwareAuthenticator) -> Browser:
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    return browser


def is_csrf_refusal(response: TestResponse) -> bool:
    if response.status_code != 400:
        return False
    if response.mimetype == "application/problem+json":
        return str(response.get_json()["type"]).endswith("/csrf-failed")
    return "This form has expired." in response.get_data(as_text=True)


def every_state_change(
    app: Flask, browser: Browser, headers: dict[str, str]
) -> Iterator[tuple[str, TestResponse]]:
    """Each state-changing route, as a form and as JSON, with the session's own token."""
    values = sample_values(app)
    token = browser.csrf
    for rule, method in state_changing_routes(app):
        url = url_for_rule(app, rule, values)
        form = browser.client.open(url, method=method, data={"csrf_token": token}, headers=headers)
        yield f"{method} {url} form", form
        json = browser.client.open(
            url, method=method, json={}, headers={"X-CSRFToken": token, **headers}
        )
        yield f"{method} {url} json", json


def assert_all_refused_and_nothing_changed(
    app: Flask, attempts: Iterator[tuple[str, TestResponse]]
) -> None:
    before = snapshot(app)
    count = 0
    for where, response in attempts:
        count += 1
        assert is_csrf_refusal(response), f"{where}: {response.status_code}"
    assert count > 10, "the walk found no state-changing routes"
    after = snapshot(app)
    assert after.tables == before.tables
    assert after.audit == before.audit
    assert after.used_challenges == before.used_challenges


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_every_state_change_from_a_foreign_origin_is_refused_despite_a_valid_token(
    app: Flask, signed_in: Browser, origin: str
) -> None:
    attempts = every_state_change(app, signed_in, {"Origin": origin})
    assert_all_refused_and_nothing_changed(app, attempts)
    assert signed_in.client.get("/account").status_code == 200, "still signed in"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_every_state_change_another_site_sent_without_origin_is_refused(
    app: Flask, signed_in: Browser, site: str
) -> None:
    # Fetch Metadata: without Origin, Sec-Fetch-Site still tells who started the request.
    attempts = every_state_change(app, signed_in, {"Sec-Fetch-Site": site})
    assert_all_refused_and_nothing_changed(app, attempts)


def test_this_sites_origin_is_accepted(browser: Browser) -> None:
    headers = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
    form = browser.post_form("/signup", {"username": "ada"}, headers=headers)
    assert form.status_code == 302, form.get_data(as_text=True)
    fetch = browser.post_json("/api/passkeys/sign-in/options", headers=headers)
    assert fetch.status_code == 200, fetch.get_json()


def test_a_related_origin_is_accepted(tmp_path: Path) -> None:
    related = "https://login.example.org"
    browser = Browser(make_app(tmp_path, RELATED_ORIGINS=related).test_client())
    headers = {"Origin": related, "Sec-Fetch-Site": "cross-site"}
    response = browser.post_json("/api/passkeys/sign-in/options", headers=headers)
    assert response.status_code == 200, response.get_json()


def test_the_right_origin_does_not_replace_the_token(browser: Browser) -> None:
    response = browser.client.post("/signup", data={"username": "ada"}, headers={"Origin": ORIGIN})
    assert is_csrf_refusal(response)


def test_a_client_that_sends_no_origin_and_no_referer_needs_only_the_token(
    tmp_path: Path,
) -> None:
    # Production over HTTPS: the Referer check Flask-WTF would make there refused every
    # form and fetch of browsers told `Referrer-Policy: no-referrer` (issue 15). A
    # request without Origin does not come from a browser page, which holds no victim's
    # cookie; the session's token decides.
    app = make_app(tmp_path, ENV="production", ORIGIN=HTTPS, RP_ID="localhost")
    client = app.test_client()
    match = _CSRF.search(client.get("/signup", base_url=HTTPS).get_data(as_text=True))
    assert match
    response = client.post(
        "/signup", data={"csrf_token": match.group(1), "username": "ada"}, base_url=HTTPS
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    json = client.post(
        "/api/passkeys/sign-in/options",
        json={},
        headers={"X-CSRFToken": match.group(1)},
        base_url=HTTPS,
    )
    assert json.status_code == 200, json.get_json()


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
    ids=["other-site", "null-origin"],
)
def test_another_sites_post_leaves_the_persons_cookie_alone(
    app: Flask, signed_in: Browser, headers: dict[str, str]
) -> None:
    """Forced logout: a browser does not send the SameSite=Lax cookie with another site's
    POST, so any cookie the refusal set would replace the person's and sign them out."""
    values = sample_values(app)
    stranger = app.test_client(use_cookies=False)  # what the browser sends: no cookie
    for rule, method in state_changing_routes(app):
        url = url_for_rule(app, rule, values)
        for body in ({"data": {"csrf_token": "x"}}, {"json": {}}):
            response = stranger.open(url, method=method, headers=headers, **body)
            assert response.status_code == 400, f"{method} {url}"
            assert "Set-Cookie" not in response.headers, f"{method} {url} set a cookie"
    assert signed_in.client.get("/account").status_code == 200, "still signed in"
