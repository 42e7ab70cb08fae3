"""Tests against the real production backends: PostgreSQL and Redis on this machine.

Outside CI a test whose service is unreachable is skipped with the reason; in CI
(``CI=true``) it fails, so a broken service can never pass silently.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_ADMIN_URL = os.environ.get("AUTHDEMO_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs ``-n auto --dist loadgroup``) these tests run
    on one worker, one after another: they share one Redis database (``redis_db``), which
    each of them empties."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.xdist_group("production"))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{service} is not reachable on {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A schema of its own in the shared `test` database, dropped afterwards."""
    require("PostgreSQL", PG_HOST, PG_PORT)
    schema = f"p_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_url(schema: str, host: str = PG_HOST, port: int = PG_PORT) -> str:
    return f"postgresql+psycopg://postgres@{host}:{port}/test?options=-csearch_path%3D{schema}"


@pytest.fixture
def redis_db() -> Iterator[int]:
    """A Redis database index used only by this test, emptied before and after."""
    import redis

    require("Redis", REDIS_HOST, REDIS_PORT)
    # CI uses 14; people running tests side by side on one Redis can choose their own.
    index = int(os.environ.get("AUTHDEMO_TEST_PRODUCTION_REDIS_DB", "14"))
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index)
    client.flushdb()
    try:
        yield index
    finally:
        client.flushdb()
