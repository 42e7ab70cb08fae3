"""Who writes, and when (issue 18 items 1 and 2, docs/decisions/0019-sealed-challenges.md).

An options request writes nothing at all: no INSERT, UPDATE or DELETE and no COMMIT (the
ceremony travels sealed in the cookie). A verify request reads and checks the signature
first, then writes once: the first write statement comes after py_webauthn's check, and
the request commits exactly once, durably (0006: SQLite ``synchronous=FULL`` stays on
every pooled connection).

Statements are seen as the database sees them, with SQLAlchemy engine events; the moment
of the signature check is marked by a spy that calls py_webauthn's own function through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from authdemo.extensions import Database
from authdemo.passkeys import service as passkey_service
from tests.conftest import Browser, FrozenClock, make_app, uses_sqlite
from tests.support.authenticator import SoftwareAuthenticator

SQLITE_FULL = 2  # what ``PRAGMA synchronous`` reads back for FULL
SIGNATURE_CHECK = "-- signature checked --"
COMMIT = "COMMIT"
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement and commit the app sends while the block runs, with a marker
    where py_webauthn verified a signature."""
    sent: list[str] = []
    engine = Database.engine_for(app)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.lstrip())

    def committed(_conn: Any) -> None:
        sent.append(COMMIT)

    def marking(original: Callable[..., Any]) -> Callable[..., Any]:
        def spy(*args: Any, **kwargs: Any) -> Any:
            verified = original(*args, **kwargs)
            sent.append(SIGNATURE_CHECK)
            return verified

        return spy

    for name in ("verify_authentication_response", "verify_registration_response"):
        monkeypatch.setattr(passkey_service, name, marking(getattr(passkey_service, name)))
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", committed)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", committed)
        monkeypatch.undo()


def writes(sent: list[str]) -> list[str]:
    return [s for s in sent if s == COMMIT or s.upper().startswith(WRITES)]


def assert_written_late_and_once(sent: list[str]) -> None:
    assert sent.count(SIGNATURE_CHECK) == 1, sent
    first_write = next(i for i, s in enumerate(sent) if s.upper().startswith(WRITES))
    assert sent.index(SIGNATURE_CHECK) < first_write, "a write before the signature check"
    assert sent[first_write].startswith("INSERT INTO used_challenges"), sent[first_write]
    assert sent.count(COMMIT) == 1, sent
    assert not writes(sent[sent.index(COMMIT) + 1 :]), "a write after the commit"


@pytest.fixture
def durable(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(tmp_path, clock, SQLITE_SYNCHRONOUS="FULL")


@pytest.fixture
def alice(durable: Flask, authenticator: SoftwareAuthenticator) -> Browser:
    browser = Browser(durable.test_client())
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    return browser


def test_sign_in_options_write_nothing_and_the_verify_writes_late_once(
    durable: Flask, alice: Browser, authenticator: SoftwareAuthenticator, monkeypatch: Any
) -> None:
    alice.sign_out()
    alice.csrf  # noqa: B018 - load the sign-in page outside the recorded block
    with statements(durable, monkeypatch) as sent:
        options = alice.sign_in_options()
    assert writes(sent) == [], sent
    with statements(durable, monkeypatch) as sent:
        response = alice.post_json("/api/passkeys/sign-in/verify", authenticator.get(options))
    assert response.status_code == 200, response.get_json()
    assert_written_late_and_once(sent)


def test_sign_up_options_write_nothing_and_the_verify_writes_late_once(
    durable: Flask, authenticator: SoftwareAuthenticator, monkeypatch: Any
) -> None:
    browser = Browser(durable.test_client())
    assert browser.choose_username("alice").status_code == 302
    consent = browser.consent()
    browser.csrf  # noqa: B018
    with statements(durable, monkeypatch) as sent:
        options = browser.post_json("/api/passkeys/sign-up/options", consent)
    assert options.status_code == 200, options.get_json()
    assert writes(sent) == [], sent
    with statements(durable, monkeypatch) as sent:
        created = browser.post_json(
            "/api/passkeys/sign-up/verify", authenticator.create(options.get_json())
        )
    assert created.status_code == 200, created.get_json()
    assert_written_late_and_once(sent)


def test_add_passkey_options_write_nothing_and_the_verify_writes_late_once(
    durable: Flask, alice: Browser, monkeypatch: Any
) -> None:
    consent = alice.consent()
    alice.csrf  # noqa: B018 - load the account page (it may record a notice as seen) first
    with statements(durable, monkeypatch) as sent:
        options = alice.post_json("/api/passkeys/add/options", consent)
    assert options.status_code == 200, options.get_json()
    assert writes(sent) == [], sent
    with statements(durable, monkeypatch) as sent:
        added = alice.post_json(
            "/api/passkeys/add/verify", SoftwareAuthenticator().create(options.get_json())
        )
    assert added.status_code == 200, added.get_json()
    assert_written_late_and_once(sent)


def test_step_up_options_write_nothing_and_the_verify_writes_late_once(
    durable: Flask,
    alice: Browser,
    authenticator: SoftwareAuthenticator,
    clock: FrozenClock,
    monkeypatch: Any,
) -> None:
    clock.advance(minutes=6)  # past the step-up window: a real step-up
    alice.csrf  # noqa: B018
    with statements(durable, monkeypatch) as sent:
        options = alice.post_json("/api/reauth/options")
    assert options.status_code == 200, options.get_json()
    assert writes(sent) == [], sent
    with statements(durable, monkeypatch) as sent:
        confirmed = alice.post_json("/api/reauth/verify", authenticator.get(options.get_json()))
    assert confirmed.status_code == 200, confirmed.get_json()
    assert_written_late_and_once(sent)


def test_a_refused_sign_in_still_writes_only_after_its_checks_and_commits_once(
    durable: Flask, alice: Browser, authenticator: SoftwareAuthenticator, monkeypatch: Any
) -> None:
    alice.sign_out()
    options = alice.sign_in_options()
    forged = authenticator.get(options)
    forged["response"]["signature"] = forged["response"]["signature"][:-4] + "AAAA"
    with statements(durable, monkeypatch) as sent:
        response = alice.post_json("/api/passkeys/sign-in/verify", forged)
    assert response.status_code == 400
    # The verifier refused (no marker): the used challenge and the audit row, one commit.
    assert SIGNATURE_CHECK not in sent
    assert [s.split("(")[0].strip() for s in writes(sent)] == [
        "INSERT INTO used_challenges",
        "INSERT INTO audit_events",
        COMMIT,
    ], sent


@pytest.mark.sqlite_only
def test_pooled_sqlite_connections_return_to_full_durability(
    durable: Flask, alice: Browser, authenticator: SoftwareAuthenticator
) -> None:
    assert uses_sqlite(durable)
    for _ in range(3):
        alice.sign_out()
        assert alice.sign_in_with_passkey(authenticator).status_code == 200
    engine = Database.engine_for(durable)
    # Every connection the pool holds, each read back on its own.
    held = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        assert held, "the requests left no connection in the pool"
        for connection in held:
            cursor = connection.cursor()
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == SQLITE_FULL
            cursor.close()
    finally:
        for connection in held:
            connection.close()
