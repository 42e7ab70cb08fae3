"""A PostgreSQL server that stops answering (rather than refusing connections) gets a
503 from /healthz within the app's connect timeout, instead of a request that hangs for
as long as the kernel keeps trying (authdemo.extensions.POSTGRESQL_TIMEOUTS)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from authdemo.extensions import Database
from tests.conftest import make_app
from tests.production.conftest import PG_HOST, PG_PORT, pg_url
from tests.production.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

#: Far longer than the 5-second connect timeout: only a request that would otherwise hang
#: gets near it (this guards the test run, it measures nothing).
HANG = 120


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    yield proxy
    proxy.stop()


def _get_in_thread(app: Flask, path: str) -> Any:
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.append(app.test_client().get(path)))
    worker.daemon = True
    worker.start()
    worker.join(HANG)
    assert answers, f"GET {path} was still waiting after {HANG} s: the request hangs"
    return answers[0]


def test_a_database_that_stops_answering_gets_503_from_healthz_not_a_hang(
    tmp_path: Path, postgres_schema: str, pg_proxy: TcpProxy
) -> None:
    app = make_app(tmp_path, DATABASE_URL=pg_url(postgres_schema, port=pg_proxy.port))
    assert _get_in_thread(app, "/healthz").status_code == 200

    pg_proxy.silence()
    failing = _get_in_thread(app, "/healthz")
    assert failing.status_code == 503
    assert failing.get_json()["database"] == "failing"

    pg_proxy.restore()
    assert _get_in_thread(app, "/healthz").status_code == 200


def _libpq_connection(app: Flask) -> Any:
    with app.app_context():
        connection = Database.engine_for(app).raw_connection()
        return connection.driver_connection, connection


def test_a_connection_the_kernel_cannot_deliver_on_is_dropped_not_waited_on(
    tmp_path: Path, postgres_schema: str
) -> None:
    # Packets that are never acknowledged (a partition, a dead host) are the case a test
    # cannot stage without dropping packets; this checks that what bounds it reaches the
    # socket the app actually uses.
    app = make_app(tmp_path, DATABASE_URL=pg_url(postgres_schema))
    raw, pooled = _libpq_connection(app)
    try:
        sock = socket.socket(fileno=raw.fileno())
        try:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 15_000
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        finally:
            sock.detach()  # the socket stays libpq's
        assert raw.info.get_parameters()["connect_timeout"] == "5"
    finally:
        pooled.close()


def test_the_database_url_can_set_its_own_timeouts(tmp_path: Path, postgres_schema: str) -> None:
    url = pg_url(postgres_schema) + "&connect_timeout=2"
    app = make_app(tmp_path, DATABASE_URL=url)
    raw, pooled = _libpq_connection(app)
    try:
        assert raw.info.get_parameters()["connect_timeout"] == "2"
        with app.app_context():
            assert Database.engine_for(app).connect().execute(text("SELECT 1")).scalar() == 1
    finally:
        pooled.close()
