"""When a backing service goes away: a clear 503, nothing half-written, and normal
service as soon as it is back. Rate limiting fails closed, never open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from authdemo.extensions import db
from authdemo.models import User
from tests.conftest import Browser, make_app
from tests.production.conftest import PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT, pg_url
from tests.production.tcp_proxy import TcpProxy
from tests.support.authenticator import SoftwareAuthenticator

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(REDIS_HOST, REDIS_PORT)
    yield proxy
    proxy.stop()


def test_database_unreachable_answers_503_then_recovers(
    tmp_path: Path, postgres_schema: str, pg_proxy: TcpProxy
) -> None:
    app = make_app(tmp_path, DATABASE_URL=pg_url(postgres_schema, port=pg_proxy.port))
    browser = Browser(app.test_client())
    authenticator = SoftwareAuthenticator()
    assert browser.sign_up_with_passkey(authenticator, "erin").status_code == 200
    browser.sign_out()
    browser.csrf  # noqa: B018 - the sign-in page, loaded while the database is up

    pg_proxy.cut()
    # The options need no database (decision 0019: the challenge is sealed in the cookie);
    # the verify must record the challenge as used and open a session: a clear 503.
    options = browser.post_json("/api/passkeys/sign-in/options")
    assert options.status_code == 200
    api = browser.post_json("/api/passkeys/sign-in/verify", authenticator.get(options.get_json()))
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    page = browser.post_form("/signup", {"username": "someone"})
    assert page.status_code == 503
    assert "briefly unavailable" in page.get_data(as_text=True)

    pg_proxy.restore()
    assert browser.sign_in_with_passkey(authenticator).status_code == 200


def test_database_lost_mid_sign_up_leaves_nothing_half_written_and_a_retry_works(
    tmp_path: Path, postgres_schema: str, pg_proxy: TcpProxy
) -> None:
    app = make_app(tmp_path, DATABASE_URL=pg_url(postgres_schema, port=pg_proxy.port))
    browser = Browser(app.test_client())
    authenticator = SoftwareAuthenticator()
    assert browser.choose_username("dana").status_code == 302
    options = browser.post_json("/api/passkeys/sign-up/options", browser.consent()).get_json()
    credential = authenticator.create(options)

    pg_proxy.cut()
    assert browser.post_json("/api/passkeys/sign-up/verify", credential).status_code == 503
    pg_proxy.restore()
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0

    # The person just tries again.
    assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "dana").status_code == 200


def test_redis_unreachable_fails_closed_for_rate_limited_sign_in(
    tmp_path: Path, redis_db: int, redis_proxy: TcpProxy
) -> None:
    url = f"redis://127.0.0.1:{redis_proxy.port}/{redis_db}"
    app = make_app(tmp_path, RATELIMIT_STORAGE_URI=url, REDIS_URL=url)
    browser = Browser(app.test_client())
    form = {"username": "nobody", "password": "whatever phrase", "code": "123456"}
    assert browser.post_form("/signin/password", form).status_code == 401

    redis_proxy.cut()
    refused = browser.post_form("/signin/password", form)
    assert refused.status_code == 503  # never "no limit": the attempt is refused
    api = browser.post_json("/api/passkeys/sign-in/options")
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"

    redis_proxy.restore()
    assert browser.post_form("/signin/password", form).status_code == 401
    assert browser.post_json("/api/passkeys/sign-in/options").status_code == 200


def test_health_reports_each_backend(
    tmp_path: Path, postgres_schema: str, pg_proxy: TcpProxy, redis_db: int
) -> None:
    app = make_app(
        tmp_path,
        DATABASE_URL=pg_url(postgres_schema, port=pg_proxy.port),
        REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
    )
    client = app.test_client()
    healthy = client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    pg_proxy.cut()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json() == {"status": "failing", "database": "failing", "redis": "ok"}
