"""Shared fixtures: an app on a fresh migrated SQLite database, a clock you can move,
and a browser-like client that speaks JSON with a CSRF token."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from authdemo import create_app, database
from authdemo.clock import FrozenClock
from authdemo.extensions import Database, db
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.open_apps import OPEN_APPS

ORIGIN = "http://localhost:5000"
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')
_TOTP_KEY = re.compile(r'id="totp-key">([A-Z2-7 ]+)<')
_RECOVERY_CODE = re.compile(r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>")
STRONG_PASSWORD = "correct horse battery staple"
_SESSION_CHANGING = {
    "/api/passkeys/sign-up/verify",
    "/api/passkeys/sign-in/verify",
    "/signout",
    "/signin/recovery",
    "/signup/password/code",
    "/account/password-code/confirm",
    "/api/passkeys/add/verify",
    "/reauth/password",
    "/api/reauth/verify",
}


#: Set (e.g. by .ci/run) to run the suite against PostgreSQL and Redis instead of SQLite
#: and in-memory state: each test's database becomes its own PostgreSQL schema.
PG_URL = os.environ.get("AUTHDEMO_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("AUTHDEMO_TEST_REDIS_URL", "")
_schemas: dict[Path, str] = {}
_apps = OPEN_APPS  # one list however this file is imported (tests/support/open_apps.py)


def _database_url(tmp_path: Path) -> str:
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    schema = _schemas.get(tmp_path)
    if schema is None:
        schema = _schemas[tmp_path] = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(_libpq_url(PG_URL), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


PRODUCTION_CONTACTS = {
    "CONTROLLER_NAME": "Example Ltd",
    "CONTROLLER_CONTACT": "privacy@example.com",
    "DPO_CONTACT": "dpo@example.com",
}


def make_app(tmp_path: Path, clock: FrozenClock | None = None, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "ENV": "testing",
        "DATABASE_URL": _database_url(tmp_path),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "ORIGIN": ORIGIN,
        "RP_ID": "localhost",
        # Functional tests make many requests from one address; limits get their own tests.
        "RATELIMIT_CEREMONY": "10000 per minute",
        "RATELIMIT_SIGNUP": "10000 per minute",
        "SQLITE_SYNCHRONOUS": "NORMAL",
    }
    if REDIS_URL:
        config.update(
            REDIS_URL=REDIS_URL,
            RATELIMIT_STORAGE_URI=REDIS_URL,
        )
        # Each app starts with empty limits, as with memory storage. Use a Redis database
        # of its own for tests (e.g. redis://127.0.0.1:6379/15): this empties it. (A key
        # prefix per app does not do it: the global limiter keeps its first prefix; so a
        # parallel run on Redis is not safe yet, docs/decisions/0024.)
        redis.Redis.from_url(REDIS_URL).flushdb()
    if overrides.get("ENV") == "production":
        # Production refuses to start while the privacy notice's contacts are placeholders.
        config.update(PRODUCTION_CONTACTS)
    config.update(overrides)
    sqlite_file = tmp_path / "test.sqlite3"
    from_template = (
        config["DATABASE_URL"] == f"sqlite:///{sqlite_file}" and not sqlite_file.exists()
    )
    if from_template:
        # Owner-only, as the app creates its file (authdemo/extensions.py).
        sqlite_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(sqlite_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as copy:
            copy.write(_migrated_sqlite_template().read_bytes())
    app = create_app(config, clock=clock)
    if not from_template:
        database.upgrade(app)  # PostgreSQL, another URL, or an app restarted on its database
    _apps.append(app)
    return app


_template_dir: Path | None = None


def _migrated_sqlite_template() -> Path:
    """A SQLite database this process migrated to head once; each new test database is a
    copy of it. Running the migrations costs about 0.1 s per app, the copy about 1 ms; the
    file is the same bytes ``database.upgrade`` writes (the migrations hold no data and
    read no setting). Migrations themselves are tested in tests/unit/test_migrations.py."""
    global _template_dir
    if _template_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="authdemo-test-template-"))
        template = create_app(
            {
                "ENV": "testing",
                "DATABASE_URL": f"sqlite:///{folder / 'template.sqlite3'}",
                "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
                "ORIGIN": ORIGIN,
                "RP_ID": "localhost",
            }
        )
        database.upgrade(template)
        Database.engine_for(template).dispose()  # closes the file: nothing left in a WAL
        _template_dir = folder
    return _template_dir / "template.sqlite3"


def uses_sqlite(app: Flask) -> bool:
    return Database.engine_for(app).dialect.name == "sqlite"


def checkpoint(app: Flask) -> None:
    """Move SQLite's write-ahead log into the database file (``wal_checkpoint(TRUNCATE)``),
    the app's session closed first: the file alone then holds every committed row, as a
    backup copies it and as anyone reading the disk finds it."""
    with app.app_context():
        db.session.close()
    with Database.engine_for(app).connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def sqlite_file_bytes(app: Flask, folder: Path) -> bytes:
    """Every byte of the app's SQLite files in ``folder`` (made by ``make_app``), after a
    checkpoint: where a person's data would be found on disk, whichever table kept it."""
    checkpoint(app)
    raw = b"".join(path.read_bytes() for path in folder.glob("test.sqlite3*"))
    assert raw
    return raw


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    """Close every engine a test made (PostgreSQL allows only so many connections)."""
    yield
    while _apps:
        Database.engine_for(_apps.pop()).dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_schemas() -> Iterator[None]:
    """What this process leaves behind: its schemas and SQLite template."""
    yield
    if PG_URL and _schemas:
        with psycopg.connect(_libpq_url(PG_URL), autocommit=True) as conn:
            for schema in _schemas.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if _template_dir is not None:
        shutil.rmtree(_template_dir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="reads SQLite files; this run uses PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Flask:
    return make_app(tmp_path, clock)


class Browser:
    """A test client that behaves like our front end: CSRF header, JSON bodies."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._csrf: str | None = None

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            # Signed in, /signin redirects to the account page, which has a token too.
            page = self.client.get("/signin", follow_redirects=True).get_data(as_text=True)
            match = _CSRF.search(page)
            assert match, "no CSRF token on the sign-in page"
            self._csrf = match.group(1)
        return self._csrf

    def post_json(self, url: str, body: Any = None, **kwargs: Any) -> TestResponse:
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        response = self.client.post(
            url, json={} if body is None else body, headers=headers, **kwargs
        )
        return self._after(response)

    def post_form(self, url: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
        response = self.client.post(url, data={"csrf_token": self.csrf, **data}, **kwargs)
        return self._after(response)

    def _after(self, response: TestResponse) -> TestResponse:
        # Signing in or out starts a new cookie session, and with it a new CSRF token,
        # exactly as the real pages get one when they load after the redirect.
        if response.status_code < 400 and response.request.path in _SESSION_CHANGING:
            self._csrf = None
        return response

    # --- complete flows, for tests that need a signed-up person -----------------------

    def choose_username(self, username: str, display_name: str = "") -> TestResponse:
        return self.post_form("/signup", {"username": username, "display_name": display_name})

    def sign_up_with_passkey(
        self, authenticator: SoftwareAuthenticator, username: str = "alice"
    ) -> TestResponse:
        assert self.choose_username(username).status_code == 302
        options = self.post_json("/api/passkeys/sign-up/options", self.consent())
        assert options.status_code == 200, options.get_json()
        credential = authenticator.create(options.get_json())
        return self.post_json("/api/passkeys/sign-up/verify", credential)

    def consent(self) -> dict[str, Any]:
        """What the opt-in page sends once the box is ticked: the notice it showed."""
        from authdemo.consent.web import current_notice

        with self.client.application.app_context():
            notice = current_notice()
        return {
            "consent": True,
            "notice_version": notice.version,
            "notice_language": notice.language,
            "notice_sha256": notice.sha256,
        }

    def sign_in_options(self) -> dict[str, Any]:
        response = self.post_json("/api/passkeys/sign-in/options")
        assert response.status_code == 200, response.get_json()
        options: dict[str, Any] = response.get_json()
        return options

    def sign_in_with_passkey(
        self, authenticator: SoftwareAuthenticator, **overrides: Any
    ) -> TestResponse:
        credential = authenticator.get(self.sign_in_options(), **overrides)
        return self.post_json("/api/passkeys/sign-in/verify", credential)

    def sign_out(self) -> TestResponse:
        return self.post_form("/signout", {})

    def sign_up_with_password(
        self, clock: FrozenClock, username: str = "bob", password: str = STRONG_PASSWORD
    ) -> PasswordAccount:
        """The password + one-time code sign-up, as a person does it; returns their secrets."""
        assert self.choose_username(username).status_code == 302
        response = self.post_form("/signup/password", {"password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        page = self.client.get("/signup/password/code").get_data(as_text=True)
        match = _TOTP_KEY.search(page)
        assert match, "no TOTP key on the enrolment page"
        key = match.group(1).replace(" ", "")
        response = self.post_form("/signup/password/code", {"code": totp_code(key, clock)})
        assert response.status_code == 200, response.get_data(as_text=True)
        self._csrf = None
        codes = _RECOVERY_CODE.findall(response.get_data(as_text=True))
        return PasswordAccount(username, password, key, codes)

    def sign_in_with_password(
        self, account: PasswordAccount, clock: FrozenClock, **changes: str
    ) -> TestResponse:
        form = {
            "username": account.username,
            "password": account.password,
            "code": totp_code(account.totp_key, clock),
            **changes,
        }
        response = self.post_form("/signin/password", form)
        if response.status_code == 302:
            self._csrf = None
        return response


@dataclass
class PasswordAccount:
    username: str
    password: str
    totp_key: str
    recovery_codes: list[str]


def totp_code(key: str, clock: FrozenClock) -> str:
    return pyotp.TOTP(key).at(clock.now())


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def account(browser: Browser, clock: FrozenClock) -> PasswordAccount:
    """A password + code account, signed out again; 30 seconds later, so the next code is
    a new one (a code is accepted once per RFC 6238 step, and sign-up used this one)."""
    account = browser.sign_up_with_password(clock)
    browser.sign_out()
    clock.advance(seconds=30)
    return account


@pytest.fixture
def new_browser(app: Flask) -> Any:
    """Another, independent browser on the same app (a second person or device)."""
    return lambda: Browser(app.test_client())


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(rp_id="localhost", origin=ORIGIN)
