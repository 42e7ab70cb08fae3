"""authdemo as deployed: Chromium → nginx (TLS) → granian (2 workers) → PostgreSQL
and Redis, in production mode, set up by following docs/deployment.md (issue 15 item 2).

The browser reaches ``https://login.authdemo.test:PORT`` and trusts its certificate only
because the stage's CA is in its NSS database; no certificate error is ignored. The
DevTools virtual authenticator skips Chromium's own TLS check for WebAuthn, so each
journey first asserts over CDP that the page's security state is ``secure``.

The tests run in this file's order: the last ones use up the address's sign-up budget and
read the logs the others left.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from limits import parse_many
from playwright.sync_api import BrowserContext, Page, expect

from authdemo.config import Settings
from tests.deployed import stack
from tests.deployed.conftest import DeployedStack
from tests.e2e.harness import VirtualAuthenticators
from tests.e2e.test_fallback_flows import (
    next_code,
    sign_in_with_password,
    sign_up_with_password,
)
from tests.e2e.test_passkey_flows import expect_account_of, sign_out, sign_up
from tests.e2e.test_privacy_flows import delete_account

#: One year is the minimum HSTS preload lists accept.
HSTS_MIN_AGE = 365 * 24 * 60 * 60
COOKIE = "__Host-authdemo"
#: Ways of writing /metrics that reach the app's /metrics route if a proxy lets them by.
METRICS_PATHS = ["/metrics", "/metrics?format=text", "//metrics", "/%6Detrics", "/./metrics"]


def expect_secure(page: Page, path: str = "/") -> None:
    """Load ``path`` and wait for Chromium's verdict on the connection to be ``secure``."""
    cdp = page.context.new_cdp_session(page)
    states: list[str] = []
    cdp.on(
        "Security.visibleSecurityStateChanged",
        lambda event: states.append(event["visibleSecurityState"]["securityState"]),
    )
    cdp.send("Security.enable")
    page.goto(path)
    for _ in range(50):  # the event follows the load by a few milliseconds
        if states and states[-1] == "secure":
            break
        page.wait_for_timeout(100)
    assert states[-1:] == ["secure"], f"security states seen: {states}"
    cdp.detach()


def virtual_authenticators(page: Page) -> VirtualAuthenticators:
    return VirtualAuthenticators(page.context.new_cdp_session(page))


def redis_keys(deployed: DeployedStack, pattern: str) -> list[bytes]:
    return list(deployed.redis().scan_iter(match=pattern))


# --- TLS, headers and cookie --------------------------------------------------------------


def test_the_page_is_secure_with_a_certificate_of_the_stages_ca(page: Page) -> None:
    expect_secure(page, "/signin")
    assert page.url.startswith(f"https://{stack.HOST}:")


def test_pages_through_the_proxy_have_hsts_csp_and_a_host_only_cookie(
    page: Page, context: BrowserContext
) -> None:
    response = page.goto("/signin")
    assert response is not None
    assert response.status == 200
    headers = response.headers
    match = re.search(r"max-age=(\d+)", headers.get("strict-transport-security", ""))
    assert match, headers
    assert int(match.group(1)) >= HSTS_MIN_AGE
    csp = headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE]
    # __Host-: Secure, Path=/, and no Domain attribute, so the cookie is host-only.
    assert cookie["secure"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == stack.HOST


def test_plain_http_only_redirects_to_the_origin(deployed: DeployedStack) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", deployed.http_port, timeout=10)
    try:
        connection.request("GET", "/privacy?tab=1", headers={"Host": stack.HOST})
        response = connection.getresponse()
        assert response.status == 301
        assert response.headers["Location"] == f"{deployed.origin}/privacy?tab=1"
    finally:
        connection.close()


def test_the_app_runs_with_the_shipped_server_settings(deployed: DeployedStack) -> None:
    # deploy/serve.py: two worker processes, as docs/deployment.md ships them.
    master = deployed.server_pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 2, children


# --- what people do -------------------------------------------------------------------


def test_passkey_sign_up_sign_in_step_up_export_and_deletion(
    page: Page, deployed: DeployedStack, tmp_path: Path
) -> None:
    expect_secure(page)
    device = virtual_authenticators(page)
    authenticator = device.add()

    sign_up(page, "ada")  # with the opt-in box ticked
    assert deployed.query("SELECT username FROM users") == [("ada",)]
    sign_out(page)

    # A cancelled attempt leaves nothing on the server: the challenge was sealed into the
    # cookie, and is recorded in the database only when a response is verified (0019).
    def used() -> int:
        return int(deployed.query("SELECT count(*) FROM used_challenges")[0][0])

    used_before = used()
    device.set_user_verified(authenticator, False)
    page.click("#signin-passkey")
    expect(page.locator("#status")).to_contain_text("You can try again")
    assert used() == used_before
    assert not redis_keys(deployed, "authdemo:ceremony:*"), "a ceremony in Redis database 12"
    device.set_user_verified(authenticator, True)

    page.click("#signin-passkey")  # usernameless: the device offers the passkey
    expect_account_of(page, "ada")
    assert used() == used_before + 1, "the sign-in recorded its challenge as used"
    sign_out(page)

    page.focus("#username")  # passkey autofill: the device answers at once in headless mode
    expect_account_of(page, "ada")

    page.goto("/reauth?next=/privacy")  # "confirm it's you"
    page.wait_for_load_state()
    page.click("#reauth-passkey")
    expect(page).to_have_url(re.compile(r"/privacy$"))

    with page.expect_download() as download_info:
        page.click("#download-data")
    saved = tmp_path / "export.json"
    download_info.value.save_as(saved)
    document: dict[str, Any] = json.loads(saved.read_text())
    assert document["account"]["username"] == "ada"
    assert len(document["passkeys"]) == 1

    delete_account(page, "ada")
    assert deployed.query("SELECT username FROM users") == []
    assert redis_keys(deployed, "LIMITS:*"), "no rate-limit counters in Redis database 12"


def test_password_and_code_sign_up_sign_out_and_sign_in(page: Page) -> None:
    expect_secure(page)
    key, codes = sign_up_with_password(page, "pat")  # the code from the page's secret
    assert len(codes) == 10
    page.wait_for_load_state()
    page.click("#signout")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.wait_for_load_state()
    sign_in_with_password(page, "pat", next_code(key))
    expect_account_of(page, "pat")


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("ExecStart", "expired sessions deleted: "),
        # Then the consent ledger against the pinned notices (issue 19 item 3).
        ("ExecStartPost", "every notice hash is a pinned one"),
    ],
)
def test_the_retention_timers_commands_run_against_the_deployed_database(
    deployed: DeployedStack, key: str, says: str
) -> None:
    # deploy/authdemo-retention.service's commands, with the settings the server runs with.
    command, unit_env = stack.unit_command(stack.RETENTION_SERVICE, key)
    result = subprocess.run(
        command,
        env={**os.environ, **deployed.env, **unit_env},
        cwd=stack.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert says in result.stdout, result.stdout


# --- what the proxy lets through ------------------------------------------------------


def test_metrics_is_not_reachable_through_the_proxy(deployed: DeployedStack) -> None:
    # The app itself answers loopback clients, and through the proxy every client would
    # look like one: the proxy must not pass it on, however the path is written.
    assert stack.answers(f"http://127.0.0.1:{deployed.app_port}/metrics")
    client = stack.ProxyClient(deployed.https_port, deployed.ca)
    for path in METRICS_PATHS:
        answer = client.request("GET", path)
        assert answer.status == 404, f"{path}: {answer.status}"
        assert b"# TYPE" not in answer.body, path


def test_forwarded_proto_and_host_sent_by_the_client_are_not_trusted(
    deployed: DeployedStack,
) -> None:
    client = stack.ProxyClient(deployed.https_port, deployed.ca)
    answer = client.request(
        "GET",
        "/signin",
        {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"},
    )
    assert answer.status == 200
    # Believed, "http" would drop HSTS: the app would think the request was not secure.
    assert "max-age=" in (answer.headers["Strict-Transport-Security"] or "")
    assert answer.cookie(COOKIE)
    assert b"evil.example" not in answer.body


def test_a_client_cannot_pick_its_address_with_x_forwarded_for(deployed: DeployedStack) -> None:
    # The per-address sign-up limit, with a new X-Forwarded-For on every attempt: if the
    # app believed the header, each attempt would count for another address.
    limit = min(item.amount for item in parse_many(Settings().RATELIMIT_SIGNUP))
    client = stack.ProxyClient(deployed.https_port, deployed.ca)
    page = client.request("GET", "/signup")
    cookie = page.cookie(COOKIE)
    token = re.search(rb'"csrfToken": "([^"]+)"', page.body)
    assert cookie
    assert token
    statuses = []
    for attempt in range(limit + 1):
        form = {"csrf_token": token.group(1).decode(), "username": f"spoof{attempt}"}
        answer = client.request(
            "POST",
            "/signup",
            {
                "Cookie": f"{COOKIE}={cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-For": f"203.0.113.{attempt + 1}",
            },
            urllib.parse.urlencode(form).encode(),
        )
        cookie = answer.cookie(COOKIE) or cookie
        statuses.append(answer.status)
        if answer.status == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {302}, statuses


def test_the_proxy_keeps_no_access_log_of_addresses_or_user_agents(
    deployed: DeployedStack, page: Page
) -> None:
    # Runs after the journeys above: everything they sent went through this nginx.
    user_agent = re.search(r"HeadlessChrome/[\d.]+", page.evaluate("navigator.userAgent"))
    assert user_agent
    access_log = deployed.nginx_dir / "access.log"
    assert not access_log.exists() or access_log.stat().st_size == 0
    for path in deployed.nginx_dir.rglob("*.log"):
        text = path.read_text(errors="replace")
        assert user_agent.group(0) not in text, path
        assert "203.0.113." not in text, path
