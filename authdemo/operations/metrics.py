"""Prometheus metrics. Labels are bounded enumerations (event names, methods, outcomes,
endpoint names); no username, id, address or other personal data ever becomes a label.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (``make serve`` does) so every worker's
counts are aggregated; see deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

EVENTS = Counter(
    "authdemo_events_total",
    "Audited events (sign-in outcomes, consent decisions, exports, erasures...).",
    ["event", "method"],
)
SIGN_INS = Counter(
    "authdemo_sign_in_attempts_total",
    "Sign-in attempts by method and outcome.",
    ["method", "outcome"],
)
THROTTLED = Counter("authdemo_throttled_total", "Requests refused by rate limiting.", ["endpoint"])
LATENCY = Histogram(
    "authdemo_request_seconds",
    "Request latency by endpoint.",
    ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_METHODS = {"passkey", "password_totp", "recovery_code"}


def observe_event(event: str, method: object) -> None:
    """Called from the audit trail's single call site (authdemo.audit.record)."""
    method_label = method if isinstance(method, str) and method in _METHODS else ""
    EVENTS.labels(event=event, method=method_label).inc()
    if event in {"sign_in.succeeded", "sign_in.failed"} and method_label:
        SIGN_INS.labels(method=method_label, outcome=event.split(".")[1]).inc()


def observe_throttled() -> None:
    THROTTLED.labels(endpoint=request.endpoint or "unknown").inc()


def register_request_timing(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _stop(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is not None and request.endpoint and request.endpoint != "static":
            LATENCY.labels(endpoint=request.endpoint).observe(time.perf_counter() - started)
        return response


def exposition() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, mimetype=CONTENT_TYPE_LATEST)
