"""The deployed-stack stage: PostgreSQL + Redis + granian + nginx + TLS, in Chromium.

Issue 15 item 2. One stack per test module (starting it is the slow part), built by
following docs/deployment.md (see ``stack.py``); each test gets its own browser context.
Outside CI the stage skips, with the reason, when PostgreSQL, Redis or a Debian package
it needs is missing (`make test` installs the packages); in CI (``CI=true``) it fails.
Browser facts it relies on: tests/e2e/NOTES.md.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page

from tests.deployed import stack
from tests.production.conftest import PG_ADMIN_URL, PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT
from tests.production.conftest import require as require_service
from tests.support import chromium as chromium_browser
from tests.support.shipped_server import free_port

HERE = Path(__file__).parent
#: Debian's packages the stage runs, as the Makefile installs them.
PROGRAMS = {
    "/usr/sbin/nginx": "nginx",
    "/usr/bin/certutil": "libnss3-tools",
    "/usr/bin/envsubst": "gettext-base",
    str(chromium_browser.CHROMIUM): "chromium",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One pytest-xdist worker runs the whole stage, so each module's stack starts once.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.deployed)
            item.add_marker(pytest.mark.xdist_group("deployed"))


def _require_program(path: str, package: str) -> None:
    if os.access(path, os.X_OK):
        return
    reason = f"{path} is missing; `make test` installs Debian's {package}"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class DeployedStack:
    """The running stack: where it answers and what it keeps."""

    origin: str
    https_port: int
    http_port: int
    app_port: int
    nginx_dir: Path
    browser_home: Path
    #: The stage's CA certificate, for clients other than the browser.
    ca: Path
    env: dict[str, str]
    database_url: str
    #: The app server's main process id (deploy/serve.py; its workers are its children).
    server_pid: int

    def query(self, sql: LiteralString) -> list[tuple[Any, ...]]:
        """Read the stage's PostgreSQL database directly, as an auditor would."""
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql).fetchall()

    def redis(self) -> redis.Redis:
        return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=stack.REDIS_DB)


def _recreate_database(drop_only: bool = False) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{stack.PG_DATABASE}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{stack.PG_DATABASE}"')


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedStack]:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    for path, package in PROGRAMS.items():
        _require_program(path, package)

    # One stage at a time on a machine: they share Redis database 12 and the database
    # authdemo_deployed. A second run waits here until the first has cleaned up.
    lock = (Path(tempfile.gettempdir()) / "authdemo-deployed-stage.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    base = tmp_path_factory.mktemp("deployed")
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    origin = f"https://{stack.HOST}:{https_port}"
    certificates = stack.make_certificates(base, stack.HOST)
    home = base / "home"
    stack.trust_in_nss(home, certificates.ca)

    _recreate_database()
    redis_client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=stack.REDIS_DB)
    redis_client.flushdb()
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{stack.REDIS_DB}"
    database_url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{stack.PG_DATABASE}"

    app_env = stack.app_environment(
        origin=origin,
        bind=f"127.0.0.1:{app_port}",
        database_url=database_url.replace("postgresql://", "postgresql+psycopg://"),
        redis_url=redis_url,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTHDEMO_")},
        **app_env,
        "FLASK_APP": "authdemo",
        "PROMETHEUS_MULTIPROC_DIR": str(base / "metrics"),
    }
    (base / "metrics").mkdir()
    upgrade = subprocess.run(
        [stack.VENV_BIN / "flask", "db", "upgrade"],
        env=env,
        cwd=stack.ROOT,
        timeout=120,
        capture_output=True,
    )
    assert upgrade.returncode == 0, upgrade.stderr.decode(errors="replace")

    # deploy/authdemo.service's command and environment, run from this checkout.
    command, unit_env = stack.server_command()
    server = stack.Process.start(
        "app server", command, base / "server.log", env={**env, **unit_env}, cwd=stack.ROOT
    )
    nginx_dir = base / "nginx"
    nginx: stack.Process | None = None
    try:
        server.wait_until(lambda: stack.answers(f"http://127.0.0.1:{app_port}/healthz"))

        (nginx_dir / "conf.d").mkdir(parents=True)
        site = nginx_dir / "conf.d" / "authdemo.conf"
        stack.render_nginx_template(
            {
                "AUTHDEMO_SERVER_NAME": stack.HOST,
                "AUTHDEMO_ORIGIN": origin,
                "AUTHDEMO_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
                "AUTHDEMO_HTTP_LISTEN": f"127.0.0.1:{http_port}",
                "AUTHDEMO_TLS_CERTIFICATE": str(certificates.certificate),
                "AUTHDEMO_TLS_CERTIFICATE_KEY": str(certificates.key),
                "AUTHDEMO_BIND": app_env["AUTHDEMO_BIND"],
            },
            site,
        )
        main = nginx_dir / "nginx.conf"
        main.write_text(stack.nginx_main_config(nginx_dir, site))
        command = ["/usr/sbin/nginx", "-p", str(nginx_dir), "-c", str(main)]
        command += ["-e", str(nginx_dir / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, timeout=30)
        assert checked.returncode == 0, checked.stderr.decode(errors="replace")
        nginx = stack.Process.start(
            "nginx", [*command, "-g", "daemon off;"], nginx_dir / "stdout.log"
        )
        nginx.wait_until(lambda: stack.listening(https_port))

        yield DeployedStack(
            origin=origin,
            https_port=https_port,
            http_port=http_port,
            app_port=app_port,
            nginx_dir=nginx_dir,
            browser_home=home,
            ca=certificates.ca,
            env=app_env,
            database_url=database_url,
            server_pid=server.popen.pid,
        )
    finally:
        if nginx is not None:
            nginx.stop()
        server.stop(signal.SIGTERM)  # as systemd stops it: graceful
        redis_client.flushdb()
        _recreate_database(drop_only=True)
        shutil.rmtree(base / "metrics", ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


# --- the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(deployed: DeployedStack) -> Iterator[Browser]:
    """Headless Chromium resolving the stage's host name to loopback, whose HOME holds the
    NSS database that trusts the stage's CA (and no certificate-error switch of any kind)."""
    with chromium_browser.launch(deployed.browser_home, stack.HOST) as browser:
        yield browser


@pytest.fixture
def context(chromium: Browser, deployed: DeployedStack) -> Iterator[BrowserContext]:
    context = chromium.new_context(base_url=deployed.origin, accept_downloads=True)
    context.set_default_timeout(chromium_browser.TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page whose script errors, CSP violations and failed loads fail the test."""
    page = context.new_page()
    errors = chromium_browser.watch_errors(page)
    yield page
    assert not errors, f"errors in the page: {errors}"
