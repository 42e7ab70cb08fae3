"""Fuzzing fixtures: the app served for real on a free port (as in ``tests/e2e``, without
a browser), and HTTP clients that hold what the fuzzed requests need to reach the code
behind the front door: a session cookie with a CSRF token, a chosen username, a signed-in
account that confirmed it is them just now, and a fresh ceremony for every verify call.

Every test in this folder is marked ``fuzz``. The runs are bounded (a fixed number of
examples per operation, a fixed seed) so they belong in ``make test``; run them alone
with ``pytest -m fuzz``.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from authdemo.consent.web import current_notice
from tests.conftest import make_app
from tests.support.authenticator import SoftwareAuthenticator

HERE = Path(__file__).parent
_CSRF = re.compile(r'"csrfToken": "([^"]+)"')

#: Limits high enough that fuzzing reaches the code instead of stopping at 429; the
#: limiter still runs (and is fuzzed) on every request. Step-up lasts the whole run.
RELAXED = {
    "RATELIMIT_CEREMONY": "1000000 per minute",
    "RATELIMIT_SIGNUP": "1000000 per minute",
    "RATELIMIT_EXPORT": "1000000 per hour",
    "RATELIMIT_PASSWORD_IP": "1000000 per minute",
    "RATELIMIT_PASSWORD_ACCOUNT": "1000000 per minute",
    "STEP_UP_SECONDS": 3600,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: bounded fuzzing (schemathesis, hypothesis)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.fuzz)


@dataclass(frozen=True)
class LiveApp:
    """The app listening on ``url``; ``origin`` is what browsers (and passkeys) see."""

    url: str
    origin: str
    app: Flask


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    origin = f"http://localhost:{port}"
    app = make_app(tmp_path_factory.mktemp("fuzz-app"), ORIGIN=origin, **RELAXED)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", port, app, threaded=True, fd=listener.fileno()
    )
    listener.close()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fuzz-server", daemon=True
    )
    thread.start()
    try:
        # 127.0.0.1, not localhost: no failed IPv6 attempt before every request.
        yield LiveApp(url=f"http://127.0.0.1:{port}", origin=origin, app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Client:
    """One browser's worth of state against the live app, with the page's CSRF token."""

    live: LiveApp
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""

    def load_token(self, page: str = "/signin") -> None:
        html = self.http.get(self.live.url + page, timeout=10).text
        match = _CSRF.search(html)
        assert match, f"no CSRF token on {page}"
        self.csrf = match.group(1)

    def post_json(self, path: str, body: Any) -> requests.Response:
        return self.http.post(
            self.live.url + path, json=body, headers={"X-CSRFToken": self.csrf}, timeout=10
        )

    def post_form(self, path: str, form: dict[str, str]) -> requests.Response:
        data = {"csrf_token": self.csrf, **form}
        return self.http.post(self.live.url + path, data=data, timeout=10, allow_redirects=False)

    def cookie(self, name: str) -> str:
        value = self.http.cookies.get(name)
        assert value is not None, f"no {name} cookie"
        return value


def consent(live: LiveApp) -> dict[str, Any]:
    with live.app.app_context():
        notice = current_notice()
    return {"consent": True, "notice_version": notice.version, "notice_sha256": notice.sha256}


def visitor(live: LiveApp) -> Client:
    """Someone on the sign-in page."""
    client = Client(live)
    client.load_token()
    return client


def newcomer(live: LiveApp, username: str) -> Client:
    """Someone who chose a username on /signup and is on the passkey opt-in screen."""
    client = visitor(live)
    assert client.post_form("/signup", {"username": username}).status_code == 302
    return client


def member(live: LiveApp, username: str) -> tuple[Client, SoftwareAuthenticator]:
    """Someone who signed up with a passkey just now (so step-up is fresh)."""
    client = newcomer(live, username)
    authenticator = SoftwareAuthenticator(rp_id="localhost", origin=live.origin)
    options = client.post_json("/api/passkeys/sign-up/options", consent(live))
    assert options.status_code == 200, options.text
    verified = client.post_json(
        "/api/passkeys/sign-up/verify", authenticator.create(options.json())
    )
    assert verified.status_code == 200, verified.text
    client.load_token("/account")
    return client, authenticator
