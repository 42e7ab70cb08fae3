"""Operations endpoints: health, Prometheus metrics without personal data, Related Origin
Requests, and trusting exactly the configured number of proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from authdemo.clock import FrozenClock
from authdemo.extensions import Database
from authdemo.operations import metrics
from tests.conftest import REDIS_URL, Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator


def test_health_reports_the_database(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    expected = {"status": "ok", "database": "ok"}
    if REDIS_URL:  # the CI stage on Redis configures it
        expected["redis"] = "ok"
    assert response.get_json() == expected


def test_health_says_only_ok_or_failing_and_nothing_about_configuration(tmp_path: Path) -> None:
    # A Redis that does not answer (nothing listens on port 1), behind a URL with a password.
    app = make_app(
        tmp_path,
        REDIS_URL="redis://:h3alth-secret@127.0.0.1:1/5",
        RP_ID="localhost",
        METRICS_TOKEN="t0ken-for-prometheus",
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "failing", "database": "ok", "redis": "failing"}
    text = response.get_data(as_text=True) + str(response.headers)
    settings = app.extensions["authdemo.settings"]
    for value in ("h3alth-secret", "127.0.0.1", "t0ken", settings.ORIGIN, "testing", "0.1.0"):
        assert value not in text
    assert "Connection" not in response.get_data(as_text=True)  # no error message either


@pytest.mark.sqlite_only  # on PostgreSQL: tests/production/test_failures.py cuts the connection
def test_health_reports_the_database_failing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    Database.engine_for(app).dispose()
    (tmp_path / "test.sqlite3").unlink()
    (tmp_path / "test.sqlite3").mkdir()  # the database file is now a directory
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "failing"


def test_every_sign_in_endpoint_named_by_the_metrics_exists(app: Flask) -> None:
    for endpoint in metrics.SIGN_IN_ENDPOINTS:
        rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
        assert rules, endpoint
        assert all("POST" in (rule.methods or ()) for rule in rules), endpoint


def test_a_refused_sign_in_counts_the_same_whether_or_not_the_account_exists(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock, "countedperson")
    browser.sign_out()

    def failed_count() -> float:
        return _sample("authdemo_sign_in_attempts_total", method="password_totp", outcome="failed")

    deltas = []
    for username in ("countedperson", "nosuchperson"):
        before = failed_count()
        refused = browser.post_form(
            "/signin/password", {"username": username, "password": "wrong", "code": "000000"}
        )
        assert refused.status_code == 401
        deltas.append(failed_count() - before)
    assert deltas == [1, 1]
    assert account.username not in app.test_client().get("/metrics").get_data(as_text=True)


def test_a_server_error_is_counted(app: Flask) -> None:
    @app.get("/boom-for-the-metrics-test")
    def boom() -> str:
        raise RuntimeError("a bug")

    before = _sample("authdemo_http_responses_total", status_class="5xx")
    assert app.test_client().get("/boom-for-the-metrics-test").status_code == 500
    assert _sample("authdemo_http_responses_total", status_class="5xx") == before + 1


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_metrics_count_sign_ins_without_personal_data(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator, "metricsperson")
    browser.sign_out()
    browser.sign_in_with_passkey(authenticator)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'authdemo_sign_in_attempts_total{method="passkey",outcome="succeeded"}' in text
    assert "authdemo_request_seconds_bucket" in text
    assert "metricsperson" not in text
    assert authenticator.credentials[-1].id_b64url not in text


def test_metrics_refuse_non_loopback_clients_without_a_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_metrics_token_is_required_when_configured(tmp_path: Path) -> None:
    client = make_app(tmp_path, METRICS_TOKEN="t0ken-for-prometheus").test_client()
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get("/metrics", headers={"Authorization": "Bearer t0ken-for-prometheus"})
    assert right.status_code == 200


def test_well_known_webauthn_lists_related_origins_only_when_configured(tmp_path: Path) -> None:
    assert make_app(tmp_path).test_client().get("/.well-known/webauthn").status_code == 404
    related = make_app(tmp_path, RELATED_ORIGINS="https://example.org")
    assert related.test_client().get("/.well-known/webauthn").get_json() == {
        "origins": ["http://localhost:5000", "https://example.org"]
    }


def test_a_related_origin_can_sign_in(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(tmp_path, clock, RELATED_ORIGINS="https://shop.example.org")
    browser = Browser(app.test_client())
    authenticator = SoftwareAuthenticator()
    browser.sign_up_with_passkey(authenticator)
    browser.sign_out()
    response = browser.sign_in_with_passkey(authenticator, origin="https://shop.example.org")
    assert response.status_code == 200
    browser.sign_out()
    stranger = browser.sign_in_with_passkey(authenticator, origin="https://evil.example.net")
    assert stranger.status_code == 400


def test_forwarded_headers_are_ignored_unless_proxies_are_configured(tmp_path: Path) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    plain = make_app(tmp_path).test_client().get("/signin", headers=forwarded)
    assert "Strict-Transport-Security" not in plain.headers
    proxied = make_app(tmp_path, PROXY_HOPS=1).test_client().get("/signin", headers=forwarded)
    assert "Strict-Transport-Security" in proxied.headers
