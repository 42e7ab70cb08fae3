"""The bad input catalogue: every endpoint of ``app.url_map`` against a table of hostile
input, answered with a clear 4xx (problem+json for ``/api/``, a page for forms), never a
5xx, and with the data left exactly as it was.

Issue 9 item 7. ``tests/functional/test_bad_input.py`` goes deep on the passkey JSON;
this catalogue goes wide, so an endpoint added tomorrow meets the same table:

- ``BODIES``: empty bodies, wrong content types, invalid UTF-8, malformed multipart,
  a number JSON cannot hold, a body over the size cap;
- ``VALUES``: very long strings, Unicode confusables, control and bidirectional
  characters, SQL and HTML metacharacters, put in every field the endpoint reads (form
  fields found in its view's source, JSON members from the OpenAPI document);
- path arguments (``<version>``, ``<int:passkey_id>``...) given hostile values.

Each is sent by a visitor, by someone who has just chosen a username, and by a
signed-in member. A refusal may also be a redirect to where the person must go first
(sign in, confirm it's you, start sign-up). The data check compares every table but the
ceremonies and the audit trail (which a refused attempt may touch) before and after.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from authdemo import PROJECT_ROOT, openapi
from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import Browser
from tests.functional.passkey_support import snapshot
from tests.support.authenticator import SoftwareAuthenticator

PROBLEM = "application/problem+json"
#: Where a refused form may send people instead of answering 4xx: "sign in first",
#: "confirm it's you first", "choose a username first", "you are signed in already",
#: "set up password + code first", "finish recovery first".
REFUSAL_REDIRECTS = {
    "/signin",
    "/reauth",
    "/signup",
    "/account",
    "/account/password-code",
    "/account/recover",
}
OVER_THE_CAP = 70_000  # MAX_REQUEST_BYTES is 64 KiB
CSRF_REFUSAL = "This form has expired."  # authdemo/errors.py, for forms and JSON alike

#: State-changing routes that read no input at all (their whole request is the CSRF
#: token, tested in test_every_route.py); sending them "bad input" would just perform
#: the action. test_routes_left_out_read_no_input keeps this list honest.
NO_INPUT = {
    "/signout": "signs out",
    "/account/sessions/sign-out-others": "signs out the other sessions",
    "/account/sessions/<int:session_id>/sign-out": "signs out one session",
    "/account/passkeys/<int:passkey_id>/remove": "removes a passkey (behind step-up)",
    "/account/password-code/remove": "removes password + code (behind step-up)",
    "/account/recovery-codes": "replaces the recovery codes (behind step-up)",
}

#: (content type, body) that no endpoint taking input may accept.
BODIES: dict[str, tuple[str, bytes]] = {
    "empty": ("", b""),
    "empty-form": ("application/x-www-form-urlencoded", b""),
    "empty-json": ("application/json", b""),
    "text-plain": ("text/plain", b"username=ada&password=x"),
    "invalid-utf8-form": ("application/x-www-form-urlencoded", b"username=\xff\xfe&code=\xc3\x28"),
    "invalid-utf8-json": ("application/json", b'{"consent": "\xff\xfe"}'),
    "utf16-json": ("application/json", '{"consent": true}'.encode("utf-16")),
    "broken-multipart": ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: f"),
    "huge-number-json": ("application/json", b'{"consent": ' + b"9" * 5_000 + b"}"),
    "deep-json": ("application/json", b"[" * 50_000 + b"]" * 50_000),
    "over-the-cap-form": (
        "application/x-www-form-urlencoded",
        b"username=" + b"a" * OVER_THE_CAP,
    ),
}

#: Hostile values, put in every field an endpoint reads.
VALUES: dict[str, str] = {
    "empty": "",
    "long": "a" * 10_000,
    "cyrillic-a": "\u0430lice",  # looks like "alice"
    "full-width-dot": "alice\uff0ebob",
    "nul": "ali\x00ce",
    "rlo": "\u202eecila",
    "zero-width": "ali\u200bce",
    "newline": "alice\r\nSet-Cookie: x=1",
    "sql-quote": "' OR '1'='1' --",
    "sql-drop": "alice'); DROP TABLE users; --",
    "html": "<script>alert(1)</script>",
    "html-attribute": '"><img src=x onerror=alert(1)>',
}
#: Routes whose every field is optional: an empty or unreadable body gives them nothing,
#: which they may take as "nothing" (the data check still applies).
OPTIONAL_INPUT = {"/account/sessions/device-label": "no label means the label is cleared"}
#: Which hostile values a free-text field may legitimately take (then stored as typed and
#: shown escaped, see test_free_text_with_metacharacters_is_stored_verbatim_and_shown_escaped).
#: Names and labels: any script, any punctuation. Passwords: any Unicode (NIST SP
#: 800-63B-4 §3.1.1.2), so control characters too, as long as the password is long enough.
#: A line break in a name is collapsed to a space like any run of whitespace.
TEXT_VALUES = {
    "sql-quote",
    "sql-drop",
    "html",
    "html-attribute",
    "full-width-dot",
    "cyrillic-a",
    "newline",
}
MAY_TAKE = {
    "display_name": TEXT_VALUES,
    "name": TEXT_VALUES,
    "device_label": TEXT_VALUES,
    "password": set(VALUES) - {"empty", "long"},
    "new_password": set(VALUES) - {"empty", "long"},
}
#: Path arguments that name nothing.
PATH_VALUES = [
    "0",
    "-1",
    "99999999999999999999",
    "%00",
    "..%2F..%2Fetc",
    "<script>",
    "\u0430",
]


# --- what the catalogue walks ---------------------------------------------------------------


def form_fields() -> list[str]:
    """Every field name any of the app's forms has (templates are the source of truth)."""
    names: set[str] = set()
    for folder in (PROJECT_ROOT / "templates", PROJECT_ROOT / "authdemo"):
        for template in Path(folder).rglob("*.html"):
            names |= set(re.findall(r'name="([a-z_]+)"', template.read_text()))
    return sorted(names - {"csrf_token", "viewport"})


def fields_read_by(app: Flask, rule: Rule) -> list[str]:
    """The form fields a route's view mentions, or every field if it names none itself
    (it may hand the form to a helper, e.g. the consent notice fields)."""
    source = inspect.getsource(app.view_functions[rule.endpoint])
    fields = form_fields()
    return [name for name in fields if f'"{name}"' in source] or fields


def input_routes(app: Flask) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or set()) and rule.rule not in NO_INPUT
        ),
        key=lambda rule: rule.rule,
    )


def build(app: Flask, rule: Rule, **values: Any) -> str:
    arguments = {name: values.get(name, 1) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, arguments)


def json_members(path: str) -> list[str]:
    """The members the OpenAPI document says an /api/ endpoint's body has."""
    doc = openapi._load("openapi.json")
    operation = doc["paths"].get(path, {}).get("post")
    if operation is None or "requestBody" not in operation:
        return []
    body = openapi_resolve(doc, operation["requestBody"])
    schema = openapi_resolve(doc, body["content"]["application/json"]["schema"])
    return sorted(schema.get("properties", {}))


def openapi_resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


# --- who sends it ---------------------------------------------------------------------------


@dataclass
class Sender:
    name: str
    browser: Browser


def senders(app: Flask) -> list[Sender]:
    """A visitor, a newcomer who chose a username, a member signed in just now."""
    visitor = Browser(app.test_client())
    newcomer = Browser(app.test_client())
    assert newcomer.choose_username("newcomer").status_code == 302
    member = Browser(app.test_client())
    authenticator = SoftwareAuthenticator(rp_id="localhost", origin="http://localhost:5000")
    assert member.sign_up_with_passkey(authenticator, "member").status_code == 200
    for browser in (visitor, newcomer, member):
        assert browser.csrf  # the token is fetched now, not during a batch
    return [Sender("visitor", visitor), Sender("newcomer", newcomer), Sender("member", member)]


def send_raw(sender: Sender, url: str, content_type: str, body: bytes) -> TestResponse:
    headers = {"X-CSRFToken": sender.browser.csrf}
    if content_type:
        headers["Content-Type"] = content_type
    return sender.browser.client.post(url, data=body, headers=headers)


def send_fields(sender: Sender, url: str, fields: dict[str, str]) -> TestResponse:
    if url.startswith("/api/"):
        return sender.browser.post_json(url, fields)
    return sender.browser.client.post(url, data={"csrf_token": sender.browser.csrf, **fields})


# --- what every answer must be --------------------------------------------------------------


def is_refusal(url: str, response: TestResponse) -> bool:
    # Every request carries a valid CSRF token: a CSRF refusal would mean the input never
    # reached the code this catalogue is about.
    assert CSRF_REFUSAL not in response.get_data(as_text=True), f"{url}: refused for CSRF"
    if url.startswith("/api/"):
        return 400 <= response.status_code < 500 and response.mimetype == PROBLEM
    if 400 <= response.status_code < 500:
        return response.mimetype == "text/html"
    if response.status_code in {302, 303}:
        return urlsplit(response.headers["Location"]).path in REFUSAL_REDIRECTS
    return False


def assert_never_echoed_unescaped(where: str, text: str) -> None:
    for value in (VALUES["html"], VALUES["html-attribute"]):
        assert value not in text, f"{where}: unescaped markup in the answer"


@dataclass
class Outcome:
    where: str
    status: int
    refused: bool


def check_batch(
    app: Flask, attempts: Iterator[tuple[str, str, TestResponse]], *, may_accept: bool = False
) -> list[Outcome]:
    """Send a batch; each answer is a refusal (or, with ``may_accept``, anything but a
    5xx) and, unless something was accepted, no table changed."""
    before = snapshot(app)
    outcomes = []
    for where, url, response in attempts:
        assert response.status_code < 500, f"{where}: {response.status_code}"
        assert_never_echoed_unescaped(where, response.get_data(as_text=True))
        refused = is_refusal(url, response)
        if not may_accept:
            location = response.headers.get("Location", "")
            assert refused, f"{where}: not refused ({response.status_code} {location})"
        outcomes.append(Outcome(where, response.status_code, refused))
    if all(outcome.refused for outcome in outcomes):
        after = snapshot(app)
        for name in sorted(set(before.tables) | set(after.tables)):
            assert after.tables.get(name) == before.tables.get(name), f"table {name} changed"
    return outcomes


# --- the catalogue ---------------------------------------------------------------------------


def test_the_catalogue_walks_forms_and_json_endpoints(app: Flask) -> None:
    urls = {rule.rule for rule in input_routes(app)}
    assert {"/signup", "/signin/password", "/api/passkeys/sign-in/verify"} <= urls
    assert {"username", "password", "code", "display_name"} <= set(form_fields())


def test_routes_left_out_read_no_input(app: Flask) -> None:
    routes = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path in NO_INPUT:
        assert path in routes, f"{path} is no longer a route; drop it from NO_INPUT"
        source = inspect.getsource(app.view_functions[routes[path].endpoint])
        assert "request.form" not in source, f"{path} reads the form now"
        assert "read_json_object" not in source, f"{path} reads JSON now"


@pytest.mark.parametrize("case", list(BODIES))
def test_every_endpoint_refuses_a_malformed_body(app: Flask, case: str) -> None:
    content_type, body = BODIES[case]

    people = senders(app)

    def attempts(rules: list[Rule]) -> Iterator[tuple[str, str, TestResponse]]:
        for sender in people:
            for rule in rules:
                url = build(app, rule)
                yield f"{sender.name} {url} {case}", url, send_raw(sender, url, content_type, body)

    routes = input_routes(app)
    check_batch(app, attempts([rule for rule in routes if rule.rule not in OPTIONAL_INPUT]))
    before = snapshot(app)
    check_batch(
        app, attempts([rule for rule in routes if rule.rule in OPTIONAL_INPUT]), may_accept=True
    )
    assert snapshot(app).tables == before.tables


@pytest.mark.parametrize("value", list(VALUES))
def test_every_endpoint_refuses_a_hostile_value_in_every_field(app: Flask, value: str) -> None:
    hostile = VALUES[value]

    def fields_for(rule: Rule) -> dict[str, str]:
        if rule.rule.startswith("/api/"):
            return dict.fromkeys(json_members(rule.rule), hostile)
        return dict.fromkeys(fields_read_by(app, rule), hostile)

    def takes_free_text(rule: Rule) -> bool:
        if rule.rule in OPTIONAL_INPUT and value == "empty":
            return True
        return any(value in MAY_TAKE.get(field, set()) for field in fields_for(rule))

    for sender in senders(app):  # all signed up before the first batch starts
        strict = [
            rule for rule in input_routes(app) if fields_for(rule) and not takes_free_text(rule)
        ]
        check_batch(
            app,
            (
                (
                    f"{sender.name} {build(app, rule)} {value}",
                    build(app, rule),
                    send_fields(sender, build(app, rule), fields_for(rule)),
                )
                for rule in strict
            ),
        )
        # A free-text field may take these (test_free_text_with_metacharacters_... below).
        lenient = [rule for rule in input_routes(app) if takes_free_text(rule)]
        check_batch(
            app,
            (
                (
                    f"{sender.name} {build(app, rule)} {value}",
                    build(app, rule),
                    send_fields(sender, build(app, rule), fields_for(rule)),
                )
                for rule in lenient
            ),
            may_accept=True,
        )


@pytest.mark.parametrize("value", PATH_VALUES)
def test_every_route_with_a_path_argument_refuses_a_hostile_one(app: Flask, value: str) -> None:
    people = senders(app)

    def attempts() -> Iterator[tuple[str, str, TestResponse]]:
        for sender in people:
            for rule in app.url_map.iter_rules():
                if not rule.arguments or rule.endpoint == "static":
                    continue
                url = re.sub(r"<[^>]+>", value, rule.rule)
                for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                    response = sender.browser.client.open(
                        url, method=method, data={"csrf_token": sender.browser.csrf}
                    )
                    yield f"{sender.name} {method} {url}", url, response

    check_batch(app, attempts())


# --- metacharacters in free text: kept verbatim, shown escaped ----------------------------------


@pytest.mark.parametrize("value", sorted(TEXT_VALUES))
def test_free_text_with_metacharacters_is_stored_verbatim_and_shown_escaped(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, value: str
) -> None:
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    hostile = VALUES[value]
    response = browser.post_form("/account/profile", {"username": "ada", "display_name": hostile})
    assert response.status_code in {200, 302}, response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.execute(select(User.display_name)).scalar_one()
    # Display names are NFKC-normalised with runs of spaces collapsed, nothing else.
    assert stored == " ".join(unicodedata.normalize("NFKC", hostile).split())
    for page in ("/account", "/account/profile", "/privacy"):
        answer = browser.client.get(page)
        assert answer.status_code == 200, page
        assert_never_echoed_unescaped(page, answer.get_data(as_text=True))
