"""Prometheus metrics. Labels are bounded enumerations (event names, methods, outcomes,
endpoint names, status classes); no username, id, address or other personal data ever
becomes a label.

Sign-ins are counted from the HTTP answer a person got (not from the audit trail), so a
refusal is counted the same way whether or not the account exists, and a failure no
matter where it happens (CSRF, a backing service, the verification itself) still shows
as a failed sign-in. Every series an alert rule in deploy/prometheus/ reads exists from
the first scrape, at zero: a ratio over a series that does not exist yet is no answer
at all, and an alert on it would never fire. See
docs/decisions/0018-monitoring-and-security-contact.md.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (``make serve`` does) so every worker's
counts are aggregated; see deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

EVENTS = Counter(
    "authdemo_events_total",
    "Audited events (sign-in outcomes, consent decisions, exports, erasures...).",
    ["event", "method"],
)
SIGN_INS = Counter(
    "authdemo_sign_in_attempts_total",
    "Sign-in attempts by method and outcome (succeeded, failed, throttled, error), "
    "counted from the HTTP answer.",
    ["method", "outcome"],
)
SIGN_IN_SECONDS = Histogram(
    "authdemo_sign_in_seconds",
    "Server time of a sign-in request (the passkey verify step, the password + code or "
    "recovery-code form post) by method; throttled attempts are not observed.",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0),
)
THROTTLED = Counter("authdemo_throttled_total", "Requests refused by rate limiting.", ["endpoint"])
RESPONSES = Counter(
    "authdemo_http_responses_total",
    "HTTP responses by status class (2xx, 3xx, 4xx, 5xx).",
    ["status_class"],
)
LATENCY = Histogram(
    "authdemo_request_seconds",
    "Request latency by endpoint.",
    ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

#: The sign-in methods, as the audit trail and the consent ledger name them.
METHODS = ("passkey", "password_totp", "recovery_code")
OUTCOMES = ("succeeded", "failed", "throttled", "error")
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")

#: The request that decides a sign-in, per method (endpoint name: method). A test checks
#: that each is a real endpoint and that signing in with each method moves its series.
SIGN_IN_ENDPOINTS: Mapping[str, str] = {
    "passkeys.sign_in_verify": "passkey",
    "fallback.signin_password": "password_totp",
    "fallback.signin_recovery": "recovery_code",
}


#: Every series an alert reads, made once at import (so it is at zero from the first
#: scrape); the request hook only adds to them.
_RESPONSES = {c: RESPONSES.labels(status_class=c) for c in STATUS_CLASSES}
_SIGN_INS = {(m, o): SIGN_INS.labels(method=m, outcome=o) for m in METHODS for o in OUTCOMES}
_SIGN_IN_SECONDS = {m: SIGN_IN_SECONDS.labels(method=m) for m in METHODS}


def initialise_events(events: Iterable[str]) -> None:
    """Create each audited event's series at zero; called once by authdemo.audit."""
    for event in events:
        EVENTS.labels(event=event, method="")


def observe_event(event: str, method: object) -> None:
    """Called from the audit trail's single call site (authdemo.audit.record)."""
    method_label = method if isinstance(method, str) and method in METHODS else ""
    EVENTS.labels(event=event, method=method_label).inc()


def observe_throttled() -> None:
    THROTTLED.labels(endpoint=request.endpoint or "unknown").inc()


def _sign_in_outcome(status: int) -> str:
    if status == 429:
        return "throttled"
    if status >= 500:
        return "error"
    return "failed" if status >= 400 else "succeeded"


def register_request_timing(app: Flask) -> None:
    def _start() -> None:
        g.request_started = time.perf_counter()

    # First of all before_request functions: a request refused by the rate limiter or the
    # CSRF check (both before_request functions) is still timed and counted.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _stop(response: Response) -> Response:
        started = g.pop("request_started", None)
        elapsed = time.perf_counter() - started if started is not None else None
        status_class = f"{min(response.status_code // 100, 5)}xx"
        counter = _RESPONSES.get(status_class) or RESPONSES.labels(status_class=status_class)
        counter.inc()
        endpoint = request.endpoint
        if not endpoint or endpoint == "static":
            return response
        if elapsed is not None:
            LATENCY.labels(endpoint=endpoint).observe(elapsed)
        method = SIGN_IN_ENDPOINTS.get(endpoint)
        if method is not None and request.method == "POST":
            outcome = _sign_in_outcome(response.status_code)
            _SIGN_INS[method, outcome].inc()
            if elapsed is not None and outcome != "throttled":
                _SIGN_IN_SECONDS[method].observe(elapsed)
        return response


class _ScrapeTime(Collector):
    """Gauges read at scrape time, not counted: ``authdemo_dependency_up`` (1 or 0 per
    backing service) and, when /.well-known/security.txt is served, the moment its
    Expires field passes (``authdemo_security_txt_expiry_timestamp_seconds``)."""

    def __init__(self, checks: Mapping[str, bool], security_txt_expires: datetime | None) -> None:
        self.checks = checks
        self.security_txt_expires = security_txt_expires

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "authdemo_dependency_up",
            "Whether a backing service answered this scrape (1) or not (0).",
            labels=["dependency"],
        )
        for name, ok in self.checks.items():
            family.add_metric([name], 1.0 if ok else 0.0)
        yield family
        if self.security_txt_expires is not None:
            yield GaugeMetricFamily(
                "authdemo_security_txt_expiry_timestamp_seconds",
                "When the Expires field of /.well-known/security.txt passes (Unix time).",
                value=self.security_txt_expires.timestamp(),
            )


def exposition(
    dependencies: Mapping[str, bool], *, security_txt_expires: datetime | None
) -> Response:
    scraped = CollectorRegistry()
    scraped.register(_ScrapeTime(dependencies, security_txt_expires))
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
        data = generate_latest(scraped)
    else:
        data = generate_latest(REGISTRY) + generate_latest(scraped)
    return Response(data, mimetype=CONTENT_TYPE_LATEST)
