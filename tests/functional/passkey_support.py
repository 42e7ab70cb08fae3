"""Helpers shared by the functional tests of the passkey ceremonies.

- ``Watch``: proves a refused request changed no account data (every table but
  ``used_challenges`` and ``audit_events`` identical before and after; at most one
  challenge used up, none forgotten; the audit trail only appended to) and records *why*
  it was refused: the ``CeremonyFailed`` reason codes raised and what py_webauthn
  raised, so a test can tell that the check under test refused, not some other one.
- ``assert_problem`` / ``assert_refused``: the RFC 9457 answer, and the one generic
  refusal of a passkey response.
- Cookie helpers: read the signed cookie session, copy a cookie into a second browser
  (as someone who captured it would).
- Flows: ``sign_up`` an account and sign out, ``registration_options`` for sign-up.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text
from werkzeug.test import TestResponse

from authdemo.errors import CeremonyFailed, PasskeyNotLinked
from authdemo.extensions import Database, db
from authdemo.models import User
from authdemo.passkeys import service as passkey_service
from tests.conftest import Browser
from tests.support.authenticator import (
    ES256,
    SoftwareAuthenticator,
    StoredCredential,
    generate_private_key,
)

SIGN_UP_OPTIONS = "/api/passkeys/sign-up/options"
SIGN_UP_VERIFY = "/api/passkeys/sign-up/verify"
SIGN_IN_OPTIONS = "/api/passkeys/sign-in/options"
SIGN_IN_VERIFY = "/api/passkeys/sign-in/verify"
ADD_OPTIONS = "/api/passkeys/add/options"
ADD_VERIFY = "/api/passkeys/add/verify"

COOKIE = "authdemo"
PROBLEM = "application/problem+json"
PASSKEY_NOT_ACCEPTED = CeremonyFailed.title
PASSKEY_NOT_LINKED = PasskeyNotLinked.title
#: Tables whose rows a refused attempt may touch: the used challenge, the audit trail.
ATTEMPT_TABLES = {"used_challenges", "audit_events"}


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, list[tuple[Any, ...]]]
    used_challenges: frozenset[bytes]
    audit: list[tuple[Any, ...]]


def snapshot(app: Flask) -> Snapshot:
    """Every row of every table, read on a connection of its own (what is committed)."""
    engine = Database.engine_for(app)
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
        used = frozenset(connection.execute(text("SELECT digest FROM used_challenges")).scalars())
        audit = [
            tuple(row)
            for row in connection.execute(
                text("SELECT id, event, user_ref, details FROM audit_events ORDER BY id")
            )
        ]
    for name in ATTEMPT_TABLES:
        tables.pop(name, None)
    return Snapshot(tables, used, audit)


@dataclass
class Attempt:
    """What one refused request did, filled in when its ``with`` block ends."""

    #: CeremonyFailed reason codes raised during the request, in order.
    reasons: list[str] = field(default_factory=list)
    #: "ExceptionType: message <- cause..." of what py_webauthn raised, if it was reached.
    verifier_errors: list[str] = field(default_factory=list)
    #: Audit rows added: (event, user_ref, reason).
    audit: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def verifier_error(self) -> str:
        assert len(self.verifier_errors) == 1, self.verifier_errors
        return self.verifier_errors[0]


class Watch:
    """Spies on refusals and proves a refused request changed no account data."""

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = app
        self._reasons: list[str] = []
        self._verifier: list[str] = []
        original_init = CeremonyFailed.__init__
        original_failure = passkey_service._verifier_failure

        def spy_init(error: CeremonyFailed, reason: str, **extensions: Any) -> None:
            self._reasons.append(reason)
            original_init(error, reason, **extensions)

        def spy_failure(exc: Exception) -> CeremonyFailed:
            # py_webauthn wraps parse errors ("... was malformed. See __cause__"): keep both.
            chain: list[str] = []
            cause: BaseException | None = exc
            while cause is not None:
                chain.append(f"{type(cause).__name__}: {cause}")
                cause = cause.__cause__
            self._verifier.append(" <- ".join(chain))
            return original_failure(exc)

        monkeypatch.setattr(CeremonyFailed, "__init__", spy_init)
        monkeypatch.setattr(passkey_service, "_verifier_failure", spy_failure)

    @contextmanager
    def attempt(self) -> Iterator[Attempt]:
        before = snapshot(self.app)
        reasons_at, verifier_at = len(self._reasons), len(self._verifier)
        attempt = Attempt()
        yield attempt
        after = snapshot(self.app)
        for name in sorted(set(before.tables) | set(after.tables)):
            assert after.tables.get(name) == before.tables.get(name), f"table {name} changed"
        assert before.used_challenges <= after.used_challenges, "a used challenge was forgotten"
        assert len(after.used_challenges - before.used_challenges) <= 1, "several challenges used"
        assert after.audit[: len(before.audit)] == before.audit, "audit trail rewritten"
        attempt.reasons = self._reasons[reasons_at:]
        attempt.verifier_errors = self._verifier[verifier_at:]
        attempt.audit = [
            (event, user_ref, _reason(details))
            for _id, event, user_ref, details in after.audit[len(before.audit) :]
        ]


def _reason(details: object) -> str | None:
    # A JSON column: a dict on PostgreSQL, text on SQLite.
    value = json.loads(details) if isinstance(details, str) else details
    return value.get("reason") if isinstance(value, dict) else None


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """A 4xx RFC 9457 problem document with exactly the standard members."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


def assert_refused(response: TestResponse, *, signal: bool = False) -> dict[str, Any]:
    """The one generic refusal of a passkey response: same words whatever the reason.
    ``signal``: a passkey the site does not know, which is told so (retrying cannot help)
    with the Signal API hint, and nothing more."""
    body = assert_problem(response, 400)
    words = PASSKEY_NOT_LINKED if signal else PASSKEY_NOT_ACCEPTED
    assert body["title"] == words
    assert body["detail"] == words
    expected = {"type", "title", "status", "detail"} | ({"signal"} if signal else set())
    # "field" may name the malformed JSON member (checked before any account is looked up).
    assert set(body) - {"field"} == expected, "a refusal must say no more than this"
    return body


def cookie_value(browser: Browser) -> str:
    cookie = browser.client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def cookie_session(app: Flask, browser: Browser) -> dict[str, Any]:
    """Decode the browser's signed Flask session cookie (as the server would)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, Any] = serializer.loads(cookie_value(browser))
    return data


def browser_with_cookie(app: Flask, value: str) -> Browser:
    """A second browser holding a copy of a cookie (as an attacker who captured it would)."""
    browser = Browser(app.test_client())
    browser.client.set_cookie(COOKIE, value)
    return browser


def is_signed_in(browser: Browser) -> bool:
    return browser.client.get("/account").status_code == 200


@dataclass
class Account:
    username: str
    user_id: str
    user_handle: bytes
    authenticator: SoftwareAuthenticator

    @property
    def credential(self) -> StoredCredential:
        return self.authenticator.credentials[-1]


def sign_up(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, username: str
) -> Account:
    """Sign up with a passkey, then sign out: an existing account and an anonymous browser."""
    response = browser.sign_up_with_passkey(authenticator, username)
    assert response.status_code == 200, response.get_json()
    assert browser.sign_out().status_code == 302
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return Account(username, user.id, user.user_handle, authenticator)


def registration_options(browser: Browser, username: str = "newbie") -> dict[str, Any]:
    assert browser.choose_username(username).status_code == 302
    response = browser.post_json(SIGN_UP_OPTIONS, browser.consent())
    assert response.status_code == 200, response.get_json()
    options: dict[str, Any] = response.get_json()
    return options


def stranger_credential(algorithm: int = ES256) -> StoredCredential:
    """A passkey this site has never seen."""
    return StoredCredential(
        credential_id=secrets.token_bytes(32),
        private_key=generate_private_key(algorithm),
        algorithm=algorithm,
        rp_id="localhost",
        user_handle=secrets.token_bytes(64),
        sign_count=0,
    )


def with_response_field(credential: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {**credential, "response": {**credential["response"], name: value}}
