"""Operations endpoints: health, Prometheus metrics without personal data, Related Origin
Requests, and trusting exactly the configured number of proxies."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from authdemo.clock import FrozenClock
from tests.conftest import REDIS_URL, Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator


def test_health_reports_the_database(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    redis = "ok" if REDIS_URL else "not configured"  # the CI stage on Redis configures it
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": redis}


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
