"""Schemathesis fuzzes the live app from its own OpenAPI document: zero 5xx, and every
answer is one the document describes (status, content type, body, headers).

Issue 9 item 3. For every documented operation, schemathesis generates valid requests
and, where there is a body, invalid ones (``negative_data_rejection``: those must get a
4xx), with a fixed seed and a fixed number of examples per operation, so the run is
bounded: about two thousand generated requests, a minute or two. ``FUZZ_SEED`` and
``FUZZ_EXAMPLES`` change the seed and the number of examples. Each operation is its own
test, driven by hypothesis through ``APIOperation.as_strategy`` (schemathesis's lazy
``from_fixture`` loader does not run under pytest 9.2). A failing case fails its test,
shrunk, with a ``curl`` command to reproduce it.

So the cases reach the code instead of stopping at 400, 403 or 429: an auth hook gives
every request the session cookie and CSRF token of the right person and starts a fresh
ceremony before every verify call (without one, a verify stops at the ceremony check
before it reads the JSON it was given); a case hook makes ``rawId`` equal ``id`` as
browsers do; the served document names the current consent notice; and rate limits
are relaxed (``RELAXED`` in ``conftest.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import AuthContext, BaseSchema, Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from authdemo.extensions import Database
from tests.fuzz.conftest import Client, LiveApp, consent, member, newcomer, visitor

SEED = int(os.environ.get("FUZZ_SEED", "9"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "125"))
COOKIE = "authdemo"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # A request the document says is invalid must get a 4xx, never a success.
    negative_data_rejection,
]

#: What counts as refusing a request the document says is invalid.
REFUSALS = [400, 401, 403, 409, 413, 415, 429]

#: Each verify operation, and the options call that starts its ceremony.
CEREMONY_STARTS = {
    "/api/passkeys/sign-up/verify": "/api/passkeys/sign-up/options",
    "/api/passkeys/sign-in/verify": "/api/passkeys/sign-in/options",
    "/api/passkeys/add/verify": "/api/passkeys/add/options",
    "/api/reauth/verify": "/api/reauth/options",
}
NEEDS_CONSENT = {"/api/passkeys/sign-up/options", "/api/passkeys/add/options"}


@dataclass
class People:
    """Who sends each operation: a visitor signs in, a newcomer signs up, a member does
    the rest (signed in, step-up fresh). The member is the one whose data must survive."""

    live: LiveApp
    visitor: Client
    newcomer: Client
    member: Client

    def client_for(self, path: str) -> Client | None:
        if path in {"/healthz", "/.well-known/webauthn"}:
            return None
        if path.startswith("/api/passkeys/sign-up/"):
            return self.newcomer
        if path.startswith("/api/passkeys/sign-in/"):
            return self.visitor
        return self.member

    def credentials_for(self, path: str) -> tuple[str, str] | None:
        """The cookie and CSRF token to send, after starting a ceremony if ``path`` needs one."""
        client = self.client_for(path)
        if client is None:
            return None
        start = CEREMONY_STARTS.get(path)
        if start is not None:
            started = client.post_json(start, consent(self.live) if start in NEEDS_CONSENT else {})
            assert started.status_code == 200, f"{start}: {started.status_code} {started.text}"
        return client.cookie(COOKIE), client.csrf


@pytest.fixture(scope="module")
def people(live_app: LiveApp) -> People:
    member_client, _ = member(live_app, "fuzzy")
    return People(live_app, visitor(live_app), newcomer(live_app, "newcomer"), member_client)


def member_data(live: LiveApp) -> dict[str, list[tuple[Any, ...]]]:
    """Accounts, passkeys and the consent ledger, as committed."""
    tables = ("users", "passkeys", "consent_events")
    with Database.engine_for(live.app).connect() as connection:
        return {
            name: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}")))
            for name in tables
        }


@pytest.fixture(scope="module")
def before_fuzzing(live_app: LiveApp, people: People) -> dict[str, list[tuple[Any, ...]]]:
    return member_data(live_app)


@pytest.fixture(scope="module")
def api_schema(live_app: LiveApp, people: People) -> BaseSchema:
    # Security parameters come from the hook only: the fuzzer varies the bodies. Missing
    # or wrong CSRF tokens and cookies have their own tests (tests/functional/test_every_route.py).
    config = schemathesis.Config.from_dict(
        {
            "generation": {"with-security-parameters": False},
            # 413 (over MAX_REQUEST_BYTES) refuses invalid data as surely as a 400 does.
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
        }
    )
    loaded = schemathesis.openapi.from_url(f"{live_app.url}/openapi.json", config=config)

    # The hook: a provider called for every generated case (no caching), so each verify
    # call gets a ceremony of its own.
    @loaded.auth(refresh_interval=None)
    class SessionCookieAndCsrfToken:
        def get(self, case: Case, ctx: AuthContext) -> tuple[str, str] | None:
            return people.credentials_for(case.operation.path)

        def set(self, case: Case, data: tuple[str, str], ctx: AuthContext) -> None:
            cookie, token = data
            case.cookies = {**(case.cookies or {}), COOKIE: cookie}
            case.headers = {**(case.headers or {}), "X-CSRFToken": token}

    @loaded.hook
    def map_case(context: HookContext, case: Case) -> Case:
        # Browsers always send rawId equal to id; a schema cannot say so. Without this,
        # valid-looking credentials would all stop at that one comparison.
        body = case.body
        if is_positive(case) and isinstance(body, dict) and "id" in body:
            case.body = {**body, "rawId": body["id"]}
        return case

    return loaded


def is_positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE


def documented_operations() -> list[Any]:
    """(METHOD, path, mode) to fuzz, read from the shipped document (no server needed):
    negative data only where there is something to negate, a request body."""
    document = json.loads((files("authdemo") / "data" / "openapi.json").read_text())
    cases = []
    for path, item in sorted(document["paths"].items()):
        for method, operation in item.items():
            modes = [GenerationMode.POSITIVE]
            if "requestBody" in operation:
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                name = f"{method.upper()} {path} {mode.value}"
                cases.append(pytest.param(method.upper(), path, mode, id=name))
    return cases


@pytest.mark.parametrize(("method", "path", "mode"), documented_operations())
def test_every_answer_is_documented_and_none_is_a_server_error(
    api_schema: BaseSchema,
    before_fuzzing: dict[str, list[tuple[Any, ...]]],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=mode, auth_storage=api_schema.auth)

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Case) -> None:
        case.call_and_validate(checks=CHECKS, timeout=30)

    fuzz()


def test_fuzzing_left_every_account_intact(
    live_app: LiveApp,
    before_fuzzing: dict[str, list[tuple[Any, ...]]],
    people: People,
) -> None:
    # Runs after the fuzzing above (same module, same app): nothing it sent changed an
    # account or a passkey, the consent ledger was only appended to (each add-passkey
    # options call records the consent it carries), and the member is still signed in.
    after = member_data(live_app)
    assert after["users"] == before_fuzzing["users"]
    assert after["passkeys"] == before_fuzzing["passkeys"]
    assert set(before_fuzzing["consent_events"]) <= set(after["consent_events"])
    account = people.member.http.get(live_app.url + "/account", timeout=10, allow_redirects=False)
    assert account.status_code == 200
