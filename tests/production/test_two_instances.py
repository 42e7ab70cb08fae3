"""Two real app servers (the shipped server, one worker each, two loopback ports) on one
PostgreSQL and one Redis: state that must be shared is shared."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.production.conftest import REDIS_HOST, REDIS_PORT, pg_url
from tests.support import shipped_server
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.socket_client import Client

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ORIGIN = "http://localhost:5000"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Instances:
    urls: list[str]
    env: dict[str, str]


@pytest.fixture
def instances(postgres_schema: str, redis_db: int, tmp_path: Path) -> Iterator[Instances]:
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
    env = {
        **os.environ,
        "AUTHDEMO_ENV": "testing",
        "AUTHDEMO_DATABASE_URL": pg_url(postgres_schema),
        "AUTHDEMO_SECRET_KEY": "two-instances-share-this-secret-key-0123456789",
        "AUTHDEMO_DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
        "AUTHDEMO_ORIGIN": ORIGIN,
        "AUTHDEMO_REDIS_URL": redis_url,
        "AUTHDEMO_RATELIMIT_STORAGE_URI": redis_url,
        "AUTHDEMO_RATELIMIT_CEREMONY": "8 per minute",
        "FLASK_APP": "authdemo",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    subprocess.run([VENV_BIN / "flask", "db", "upgrade"], env=env, check=True, timeout=60)
    ports = [shipped_server.free_port(), shipped_server.free_port()]
    servers = [
        shipped_server.start({**env, "AUTHDEMO_WORKERS": "1", "AUTHDEMO_BIND": f"127.0.0.1:{port}"})
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            shipped_server.wait_until_up(url)
        yield Instances(urls, env)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


def _consent(client: Client, base: str) -> dict[str, Any]:
    """What the opt-in page sends once its box is ticked: the notice it displayed."""
    _, page = client.get(base + "/signup/how")
    version = re.search(r'name="notice_version" value="([^"]+)"', page)
    digest = re.search(r'name="notice_sha256" value="([0-9a-f]{64})"', page)
    assert version, "no notice version on the opt-in page"
    assert digest, "no notice hash on the opt-in page"
    return {"consent": True, "notice_version": version.group(1), "notice_sha256": digest.group(1)}


def _sign_up(client: Client, a: str, b: str, authenticator: SoftwareAuthenticator) -> int:
    client.refresh_csrf(a)
    assert client.post_form(a + "/signup", {"username": "casey"})[0] == 302
    status, options = client.post_json(a + "/api/passkeys/sign-up/options", _consent(client, a))
    assert status == 200, options
    credential = authenticator.create(options)
    status, _ = client.post_json(b + "/api/passkeys/sign-up/verify", credential)
    return status


def test_a_challenge_issued_by_one_instance_verifies_on_the_other_only_once(
    instances: Instances,
) -> None:
    a, b = instances.urls
    authenticator = SoftwareAuthenticator(origin=ORIGIN)
    assert _sign_up(Client(), a, b, authenticator) == 200

    signer = Client()
    signer.refresh_csrf(a)
    status, options = signer.post_json(a + "/api/passkeys/sign-in/options", {})
    assert status == 200
    assertion = authenticator.get(options)
    # A copy of the browser as it was before verifying: same ceremony cookie, same token.
    replayer = Client()
    for cookie in signer.jar:
        replayer.jar.set_cookie(cookie)
    replayer.csrf = signer.csrf
    status, body = signer.post_json(b + "/api/passkeys/sign-in/verify", assertion)
    assert status == 200, body
    replay, problem = replayer.post_json(a + "/api/passkeys/sign-in/verify", assertion)
    assert replay == 400
    assert problem["type"].endswith("passkey-not-accepted")


def test_a_rate_limit_reached_on_one_instance_applies_on_the_other(instances: Instances) -> None:
    a, b = instances.urls
    client = Client()
    client.refresh_csrf(a)
    statuses = [
        client.post_json(url + "/api/passkeys/sign-in/options", {})[0]
        for url in (a, b, a, b, a, b, a, b)
    ]
    assert statuses == [200] * 8
    assert client.post_json(b + "/api/passkeys/sign-in/options", {})[0] == 429
    assert client.post_json(a + "/api/passkeys/sign-in/options", {})[0] == 429


def test_a_session_ended_on_one_instance_is_dead_on_the_other(instances: Instances) -> None:
    a, b = instances.urls
    client = Client()
    assert _sign_up(client, a, b, SoftwareAuthenticator(origin=ORIGIN)) == 200
    assert client.get(b + "/account")[0] == 200
    # Keep a copy of the cookie, as a thief would, then sign out on the other instance.
    stolen = list(client.jar)
    client.refresh_csrf(a)
    assert client.post_form(a + "/signout", {})[0] == 302
    thief = Client()
    for cookie in stolen:
        thief.jar.set_cookie(cookie)
    status, _ = thief.get(b + "/account")
    assert status == 302
