"""Every refusal a JSON endpoint gives is said in the request's language, its detail as
much as its title (issue 19 review).

Met as a client meets it: every route of ``app.url_map`` whose body the served
``/openapi.json`` says is JSON is sent bodies no endpoint takes (not JSON, not an
object, nested too deep, members the document does not list, a member it lists with a
wrong value, one it requires left out) and requests the front end never sends (another
content type, a body over the size cap, no CSRF token, another site's ``Origin``), by a
visitor, someone who has just chosen a username and a member signed in just now. Each
comes with the page's own CSRF token and origin, as the site's scripts send it, and is
sent twice: asking for German (``Accept-Language: de``), then for English.

Both answers must be 4xx problem+json saying which language they are in, and for the
title and the detail alike, the English answer and the German one must be one message of
the shipped German catalogue: its English and its German (where its German differs, as
it does for every refusal). An English text left unmarked is in no catalogue, so its
German answer is not the German of anything; an English answer where German was asked
for is the English of a message whose German is another text. Neither pair passes.

The pages a refused form answers with are read the same way for the refusals whose words
are chosen when raised (the last way in, :mod:`authdemo.ways_in`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from authdemo.clock import FrozenClock
from tests.conftest import ORIGIN, Browser, make_app
from tests.functional.account_pages import text_of
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.catalogues import entries, po_file

GERMAN = "de"
ENGLISH = "en"
PROBLEM = "application/problem+json"
JSON = "application/json"
#: The body of the invalid-input refusal: what shows the body itself was read and refused.
INVALID_INPUT = "https://authdemo.example/problems/invalid-input"
OVER_THE_CAP = 70_000  # MAX_REQUEST_BYTES is 64 KiB
ANOTHER_SITE = "https://attacker.example"

#: Bodies no JSON endpoint takes, each sent as ``application/json``.
BAD_BODIES: dict[str, bytes] = {
    "invalid-json": b"{",
    "cut-short": b'{"consent": ',
    "empty": b"",
    "empty-string": b'""',
    "array": b"[]",
    "null": b"null",
    "number": b"12345",
    "nested-too-deep": b"[" * 30_000 + b"]" * 30_000,
    "invalid-utf8": b'{"consent": "\xff\xfe"}',
}


@dataclass(frozen=True)
class Attempt:
    """One request: a body (or its absence) and how it is sent."""

    name: str
    body: bytes
    content_type: str = JSON
    csrf: bool = True
    origin: str = ORIGIN


def transport_attempts() -> list[Attempt]:
    """What the front end never sends: refused before any view reads the body."""
    return [
        Attempt("text-plain", b"{}", content_type="text/plain"),
        Attempt("over-the-cap", b'{"consent": "' + b"a" * OVER_THE_CAP + b'"}'),
        Attempt("no-csrf-token", b"{}", csrf=False),
        Attempt("another-sites-origin", b"{}", origin=ANOTHER_SITE),
    ]


# --- what the served document says each endpoint takes ----------------------------------


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def json_body_schema(doc: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The JSON Schema of a POST's body, as the document serves it, or None."""
    operation = doc["paths"].get(path, {}).get("post")
    if operation is None or "requestBody" not in operation:
        return None
    content = resolve(doc, operation["requestBody"])["content"]
    if JSON not in content:
        return None
    return resolve(doc, content[JSON]["schema"])


def closed_object(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The members-listing branch of a body whose every shape refuses unlisted members,
    or None where the document says members are ignored."""
    branches = [resolve(doc, branch) for branch in schema.get("oneOf", [schema])]
    closed = all(
        branch.get("additionalProperties") is False or branch.get("maxProperties") == 0
        for branch in branches
    )
    listed = [branch for branch in branches if branch.get("properties")]
    return listed[0] if closed and listed else None


def usual_value(member: dict[str, Any]) -> Any:
    """A value the document allows for a member (a stand-in where it names none)."""
    if "const" in member:
        return member["const"]
    if member.get("enum"):
        return member["enum"][0]
    return "x"


def member_attempts(doc: dict[str, Any], schema: dict[str, Any]) -> Iterator[Attempt]:
    """Objects the document refuses: a member it does not list; each listed member with a
    value of another kind, the others as it allows them; each required member left out."""
    closed = closed_object(doc, schema)
    if closed is None:
        return
    members = {name: resolve(doc, node) for name, node in closed["properties"].items()}
    usual = {name: usual_value(member) for name, member in members.items()}

    def attempt(name: str, body: dict[str, Any]) -> Attempt:
        return Attempt(name, json.dumps(body).encode())

    yield attempt("unlisted-member", {**usual, "unlisted": 1})
    for name in members:
        yield attempt(f"{name}-a-number", {**usual, name: 12345})
        yield attempt(f"{name}-unknown-text", {**usual, name: "not-a-value"})
    for name in closed.get("required", []):
        yield attempt(f"{name}-left-out", {k: v for k, v in usual.items() if k != name})


def json_routes(app: Flask, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every POST route of ``app.url_map`` whose body the served document says is JSON,
    with that body's schema."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()):
            continue
        schema = json_body_schema(doc, rule.rule)
        if schema is not None:
            routes[rule.rule] = schema
    return routes


# --- who sends it ---------------------------------------------------------------------------


@dataclass
class Sender:
    name: str
    browser: Browser

    def send(self, url: str, attempt: Attempt, language: str) -> TestResponse:
        """As the site's scripts send it: the page's token and origin (same-origin fetch)."""
        headers = {
            "Accept-Language": language,
            "Origin": attempt.origin,
            "Sec-Fetch-Site": "same-origin" if attempt.origin == ORIGIN else "cross-site",
            "Content-Type": attempt.content_type,
        }
        if attempt.csrf:
            headers["X-CSRFToken"] = self.browser.csrf
        return self.browser.client.post(url, data=attempt.body, headers=headers)


def senders(app: Flask) -> list[Sender]:
    """A visitor, a newcomer who chose a username, a member signed up just now."""
    visitor = Browser(app.test_client())
    newcomer = Browser(app.test_client())
    assert newcomer.choose_username("newcomer").status_code == 302
    member = Browser(app.test_client())
    assert member.sign_up_with_passkey(SoftwareAuthenticator(), "member").status_code == 200
    people = [Sender("visitor", visitor), Sender("newcomer", newcomer), Sender("member", member)]
    for sender in people:
        assert sender.browser.csrf  # each page's token, fetched before the first attempt
    return people


# --- the catalogue: which English and German belong together --------------------------------


def _words(text: str) -> str:
    return " ".join(text.split())


def _pattern(message: str) -> re.Pattern[str]:
    """The message with any value it names (``%(num)s``) left open."""
    parts = re.split(r"%\(\w+\)[sd]|%[sd]", _words(message))
    return re.compile(".+?".join(re.escape(part) for part in parts))


@cache
def catalogue_pairs() -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    """(English, German) of every message of the shipped German catalogue whose German
    differs from its English."""
    pairs = []
    for entry in entries(po_file(GERMAN)):
        for english, german in zip(entry.english, entry.translated, strict=False):
            if german and _words(german) != _words(english):
                pairs.append((_pattern(english), _pattern(german)))
    return tuple(pairs)


def one_message(english: str, german: str) -> bool:
    """``english`` and ``german`` are one catalogue message, in each language."""
    return any(
        en.fullmatch(_words(english)) and de.fullmatch(_words(german))
        for en, de in catalogue_pairs()
    )


def said_in_each_language(where: str, english: TestResponse, german: TestResponse) -> list[str]:
    """What is wrong with the two answers to one request (nothing, when all is well)."""
    found = []
    for language, response in ((ENGLISH, english), (GERMAN, german)):
        if not (400 <= response.status_code < 500 and response.mimetype == PROBLEM):
            found.append(f"{where} ({language}): {response.status_code} {response.mimetype}")
        elif response.headers.get("Content-Language") != language:
            said = response.headers.get("Content-Language")
            found.append(f"{where} ({language}): Content-Language {said!r}")
    if found:
        return found
    for member in ("title", "detail"):
        en, de = english.get_json()[member], german.get_json()[member]
        if not one_message(en, de):
            found.append(f"{where}: {member} {de!r} in German, {en!r} in English")
    return found


# --- the invariant ----------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    # Many reports from one address; the limit's own answer is tested below.
    return make_app(tmp_path, clock, RATELIMIT_CEREMONY_PROBLEM="10000 per minute")


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def test_the_walk_finds_every_json_endpoint_and_its_members(
    app: Flask, doc: dict[str, Any]
) -> None:
    """Guards the walk: every POST under /api/ takes a JSON body by the document, and the
    members it sends wrong come from the document's lists."""
    routes = json_routes(app, doc)
    api_posts = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "POST" in (rule.methods or set())
    }
    assert api_posts <= set(routes)
    assert {"/api/passkeys/sign-in/options", "/api/passkeys/problems"} <= set(routes)
    problems = {a.name for a in member_attempts(doc, routes["/api/passkeys/problems"])}
    assert {"ceremony-unknown-text", "error-unknown-text", "error-left-out"} <= problems
    consent = {a.name for a in member_attempts(doc, routes["/api/passkeys/sign-up/options"])}
    assert {"unlisted-member", "notice_sha256-unknown-text", "consent-left-out"} <= consent


def test_the_check_tells_an_unmarked_english_text_from_a_translated_one() -> None:
    """Guards the check: a pair of the catalogue passes; an English text in no catalogue,
    or the English of a message given where German was asked for, does not."""
    assert one_message("Too many attempts.", "Zu viele Versuche.")
    assert not one_message("Too many attempts.", "Too many attempts.")
    assert not one_message("The request body was broken.", "The request body was broken.")


@pytest.mark.parametrize("case", [*BAD_BODIES, "members", "transport"])
def test_every_refused_json_body_is_answered_in_the_language_asked_for(
    app: Flask, doc: dict[str, Any], case: str
) -> None:
    routes = json_routes(app, doc)
    people = senders(app)

    def attempts_for(schema: dict[str, Any]) -> list[Attempt]:
        if case == "members":
            return list(member_attempts(doc, schema))
        if case == "transport":
            return transport_attempts()
        return [Attempt(case, BAD_BODIES[case])]

    found: list[str] = []
    read_and_refused: set[str] = set()
    for url, schema in sorted(routes.items()):
        for sender in people:
            for attempt in attempts_for(schema):
                where = f"{sender.name} POST {url} {attempt.name}"
                german = sender.send(url, attempt, GERMAN)
                english = sender.send(url, attempt, ENGLISH)
                found += said_in_each_language(where, english, german)
                if german.is_json and german.get_json().get("type") == INVALID_INPUT:
                    read_and_refused.add(url)
    assert not found, "\n".join(found)
    if case in BAD_BODIES:
        # The body reached the code that reads it, for someone, on every endpoint.
        assert read_and_refused == set(routes)


def test_the_rate_limits_answer_is_in_the_language_asked_for(tmp_path: Path) -> None:
    """As shipped (30 reports a minute from one address): the answer past the limit."""
    app = make_app(tmp_path)
    sender = senders(app)[0]
    report = Attempt("report", b'{"ceremony": "sign_in", "error": "NotAllowedError"}')
    answers = [sender.send("/api/passkeys/problems", report, GERMAN) for _ in range(31)]
    assert answers[-1].status_code == 429
    english = sender.send("/api/passkeys/problems", report, ENGLISH)
    found = said_in_each_language("past the limit", english, answers[-1])
    assert not found, "\n".join(found)


# --- the last way in, on the pages a refused removal answers with ---------------------------


def _in_each_language(browser: Browser, url: str, element: str) -> tuple[str, str]:
    """The text of ``element`` on the page answering the form at ``url``, in English and
    in German."""
    said = {}
    for language in (ENGLISH, GERMAN):
        response = browser.client.post(
            url, data={"csrf_token": browser.csrf}, headers={"Accept-Language": language}
        )
        assert response.status_code == 409, (language, response.status_code)
        text = text_of(response, element)
        assert text, f"no #{element} on the answer in {language}"
        said[language] = text
    return said[ENGLISH], said[GERMAN]


def test_removing_the_only_passkey_is_refused_in_the_language_asked_for(browser: Browser) -> None:
    assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "kay").status_code == 200
    page = browser.client.get("/account/passkeys").get_data(as_text=True)
    [passkey_id] = set(re.findall(r'id="passkey-(\d+)"', page))

    english, german = _in_each_language(
        browser, f"/account/passkeys/{passkey_id}/remove", "remove-error"
    )

    assert one_message(english, german), (english, german)


def test_removing_the_only_password_and_code_is_refused_in_the_language_asked_for(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.sign_up_with_password(clock, "pat")

    english, german = _in_each_language(browser, "/account/password-code/remove", "remove-error")

    assert one_message(english, german), (english, german)


# --- what Werkzeug refuses before any view runs ---------------------------------------------


def test_a_range_past_the_end_of_a_file_is_refused_in_the_language_asked_for(
    browser: Browser,
) -> None:
    """A status the app has no words of its own for (416 here) still gets translated ones,
    not Werkzeug's English name ("Range Not Satisfiable")."""
    home = browser.client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', home)
    assert stylesheet, "no stylesheet on the home page"
    answers = {
        language: browser.client.get(
            stylesheet.group(1),
            headers={
                "Range": "bytes=99999999-",
                "Accept": JSON,
                "Accept-Language": language,
            },
        )
        for language in (ENGLISH, GERMAN)
    }
    assert answers[GERMAN].status_code == 416
    found = said_in_each_language("416", answers[ENGLISH], answers[GERMAN])
    assert not found, "\n".join(found)
