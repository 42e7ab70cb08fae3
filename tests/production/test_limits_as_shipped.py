"""The limits the README states hold under the shipped server settings (issue 15 item 3).

The server starts as `make serve` starts it (deploy/serve.py) with its default 2 workers
x 2 threads and the limiter's counters in Redis, and is met over HTTP from one loopback
address, the way a guesser meets it. The stated defaults are used unchanged: 5 failed
guesses a minute per account and 20 per address, across every way of guessing.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from limits import parse_many

from authdemo.config import Settings
from tests.production.conftest import REDIS_HOST, REDIS_PORT, require
from tests.production.test_two_instances import (
    ORIGIN,
    VENV_BIN,
    _sign_up,
)
from tests.support import shipped_server as shipped_command
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.socket_client import Client


def _per_minute(name: str) -> int:
    """The per-minute amount of a shipped default (the shortest window counts first)."""
    default = next(f.default for f in dataclasses.fields(Settings) if f.name == name)
    shortest = min(parse_many(str(default)), key=lambda item: item.get_expiry())
    assert shortest.get_expiry() == 60
    return shortest.amount


PER_ACCOUNT = _per_minute("RATELIMIT_PASSWORD_ACCOUNT")  # 5
PER_ADDRESS = _per_minute("RATELIMIT_PASSWORD_IP")  # 20


def _environment(tmp_path: Path, storage_uri: str) -> dict[str, str]:
    port = shipped_command.free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AUTHDEMO_", "GRANIAN_"))
    }
    env.update(
        {
            "AUTHDEMO_ENV": "testing",
            "AUTHDEMO_DATABASE_URL": f"sqlite:///{tmp_path / 'shipped.sqlite3'}",
            "AUTHDEMO_SECRET_KEY": "limits-as-shipped-secret-key-0123456789abcdef",
            "AUTHDEMO_DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
            "AUTHDEMO_ORIGIN": ORIGIN,
            "AUTHDEMO_RATELIMIT_STORAGE_URI": storage_uri,
            "AUTHDEMO_BIND": f"127.0.0.1:{port}",
            "FLASK_APP": "authdemo",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        }
    )
    return env


def _server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return shipped_command.start(env, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The shipped server (its own worker and thread counts) on shared Redis counters,
    started once for this module: a start takes seconds on a busy machine."""
    require("Redis", REDIS_HOST, REDIS_PORT)
    index = int(os.environ.get("AUTHDEMO_TEST_PRODUCTION_REDIS_DB", "14"))
    tmp_path = tmp_path_factory.mktemp("shipped")
    env = _environment(tmp_path, f"redis://{REDIS_HOST}:{REDIS_PORT}/{index}")
    subprocess.run([VENV_BIN / "flask", "db", "upgrade"], env=env, check=True, timeout=60)
    server = _server(env)
    url = "http://" + env["AUTHDEMO_BIND"]
    try:
        shipped_command.wait_until_up(url, timeout=60)
        yield url, index
    finally:
        server.terminate()
        server.wait(timeout=15)
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index).flushdb()


@pytest.fixture
def shipped(shipped_server: tuple[str, int]) -> str:
    """The shipped server with every counter at zero."""
    url, index = shipped_server
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index).flushdb()
    return url


def _guess_password(base: str, username: str) -> int:
    client = Client()
    client.refresh_csrf(base)
    form = {"username": username, "password": "not the password", "code": "000000"}
    return client.post_form(base + "/signin/password", form)[0]


def _guess_recovery_code(base: str, username: str) -> int:
    client = Client()
    client.refresh_csrf(base)
    form = {"username": username, "recovery_code": "AAAA-AAAA-AAAA-AAAA"}
    return client.post_form(base + "/signin/recovery", form)[0]


def test_several_workers_refuse_to_start_with_per_process_counters(tmp_path: Path) -> None:
    server = _server(_environment(tmp_path, "memory-lazy://"))
    try:
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode != 0
    assert b"AUTHDEMO_RATELIMIT_STORAGE_URI=redis://" in stderr


@pytest.mark.redis
def test_failures_per_account_stop_exactly_at_the_stated_limit(shipped: str) -> None:
    # One budget for the account, whichever way the guesses come in.
    guesses = [_guess_password, _guess_recovery_code] * PER_ACCOUNT
    statuses = [guess(shipped, "ghost") for guess in guesses[: PER_ACCOUNT + 2]]
    assert statuses == [401] * PER_ACCOUNT + [429, 429]


@pytest.mark.redis
def test_failures_per_address_are_one_budget_for_every_way_of_guessing(shipped: str) -> None:
    person = Client()
    assert _sign_up(person, shipped, shipped, SoftwareAuthenticator(origin=ORIGIN)) == 200
    person.refresh_csrf(shipped)
    step_up = {"password": "not the password", "code": "000000", "next": "/account"}
    statuses = [person.post_form(shipped + "/reauth/password", step_up)[0] for _ in range(4)]
    # Distinct usernames, each well inside its own account budget: only the address counts.
    rest = PER_ADDRESS - len(statuses)
    statuses += [_guess_password(shipped, f"pw{n}") for n in range(rest // 2)]
    statuses += [_guess_recovery_code(shipped, f"rc{n}") for n in range(rest - rest // 2)]
    assert statuses == [401] * PER_ADDRESS
    assert _guess_password(shipped, "fresh-name") == 429
    assert _guess_recovery_code(shipped, "another-fresh-name") == 429
    assert person.post_form(shipped + "/reauth/password", step_up)[0] == 429


@pytest.mark.redis
def test_concurrent_failures_stay_within_the_stated_bound(shipped: str) -> None:
    in_flight, attempts = 8, 24
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        statuses = list(pool.map(lambda _: _guess_password(shipped, "stampede"), range(attempts)))
    passed = statuses.count(401)
    assert statuses.count(429) == attempts - passed
    # Each request is let through while the budget has room and counted when refused.
    assert PER_ACCOUNT <= passed <= PER_ACCOUNT + in_flight - 1
