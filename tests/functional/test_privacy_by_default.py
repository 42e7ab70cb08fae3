"""Data protection by default (GDPR Art 25(2)): what a browser sends but the app never keeps.

Every request carries the client's network address and its User-Agent. The app may use
the address for rate limiting (in the limiter's storage, not the database) but keeps
neither in the database. The test signs up, signs in with a password and a code, fails a
sign-in, adds a session and signs out, with an address and a User-Agent no one else uses,
then reads every row of every table, and on SQLite the raw database files, for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import Base
from tests.conftest import Browser, sqlite_file_bytes, uses_sqlite
from tests.support.authenticator import SoftwareAuthenticator

ADDRESS = "203.0.113.77"
USER_AGENT = "Zebrafinch-Browser/97.3 (privacy-by-default probe)"


def every_value(app: Flask) -> list[str]:
    values = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                values += [repr(value) for value in row]
    return values


def test_no_network_address_or_user_agent_reaches_the_database(
    app: Flask, clock: FrozenClock, tmp_path: Path
) -> None:
    environ: dict[str, Any] = {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": USER_AGENT}
    person = Browser(app.test_client())
    person.client.environ_base.update(environ)
    assert person.sign_up_with_passkey(SoftwareAuthenticator(), "ada").status_code == 200
    other = Browser(app.test_client())
    other.client.environ_base.update(environ)
    account = other.sign_up_with_password(clock, "bob")
    other.sign_out()
    assert other.sign_in_with_password(account, clock, code="000000").status_code in {401, 400}
    clock.advance(seconds=30)  # a code is accepted once per 30-second step
    assert other.sign_in_with_password(account, clock).status_code == 302
    assert other.client.get("/account").status_code == 200

    values = every_value(app)
    assert len(values) > 50, "the walk found too little to prove anything"
    assert [v for v in values if ADDRESS in v or "Zebrafinch" in v] == []
    if uses_sqlite(app):
        raw = sqlite_file_bytes(app, tmp_path)
        assert ADDRESS.encode() not in raw
        assert b"Zebrafinch" not in raw
