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

With several worker processes set PROMETHEUS_MULTIPROC_DIR (``make serve`` does) so every
worker's counts are aggregated; see deploy/serve.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, current_app, g, has_app_context, request
from flask_login import current_user
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

# --- the passkey pilot's guardrail signals (issue 20 item 3; docs/rollout.md) -----------
# Labelled by method and pilot cohort only (authdemo/pilot/cohort.py): "pilot", "outside",
# or "unknown" where there is no account to place. A failed sign-in is never placed: its
# cohort would tell whoever reads /metrics that the named account exists.
SIGN_IN_SUCCESSES = Counter(
    "authdemo_pilot_sign_ins_total",
    "Successful sign-ins by method and pilot cohort (attempts, failures included, are "
    "authdemo_sign_in_attempts_total, by method only).",
    ["method", "cohort"],
)
SIGN_IN_SUCCESS_SECONDS = Histogram(
    "authdemo_pilot_sign_in_seconds",
    "Server time of a successful sign-in request by method and pilot cohort.",
    ["method", "cohort"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0),
)
CEREMONY_PROBLEMS = Counter(
    "authdemo_passkey_ceremony_problems_total",
    "Passkey ceremonies the browser cancelled or failed, as the page's script reported "
    "them: the ceremony and the WebAuthn error name only.",
    ["ceremony", "error"],
)
LOCKOUTS = Counter(
    "authdemo_lockouts_total",
    "People locked out of their usual way in: recovery-code sign-ins and operator "
    "recoveries, by pilot cohort.",
    ["kind", "cohort"],
)
OPT_OUTS = Counter(
    "authdemo_passkey_opt_outs_total",
    'Passkey consent withdrawals and "No thanks" answers, by pilot cohort.',
    ["kind", "cohort"],
)
COMPLAINTS = Counter(
    "authdemo_complaints_total",
    'Reports sent with the "Report a problem" form, by category and pilot cohort.',
    ["category", "cohort"],
)

#: The sign-in methods, as the audit trail and the consent ledger name them.
METHODS = ("passkey", "password_totp", "recovery_code")
OUTCOMES = ("succeeded", "failed", "throttled", "error")
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
#: authdemo.pilot.cohort.Cohort's values (this module imports no feature package).
COHORTS = ("pilot", "outside", "unknown")
#: Audited events that are lockouts or opt-outs: event name -> (counter, kind).
_PILOT_EVENTS: Mapping[str, tuple[Counter, str]] = {
    "recovery_code.used": (LOCKOUTS, "recovery_code"),
    "operator.recovery_codes_issued": (LOCKOUTS, "operator_recovery"),
    "consent.withdrawn": (OPT_OUTS, "withdrawn"),
    "consent.declined": (OPT_OUTS, "declined"),
}
#: Where the app keeps the function that places an account id in a cohort
#: (set by authdemo.pilot.web.register).
COHORT_PLACER = "authdemo.cohort_placer"

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
for _method in METHODS:
    for _cohort in COHORTS:
        SIGN_IN_SUCCESSES.labels(method=_method, cohort=_cohort)
        SIGN_IN_SUCCESS_SECONDS.labels(method=_method, cohort=_cohort)
for _counter, _kind in _PILOT_EVENTS.values():
    for _cohort in COHORTS:
        _counter.labels(kind=_kind, cohort=_cohort)


def initialise_pilot_series(
    *, ceremonies: Iterable[str], errors: Iterable[str], categories: Iterable[str]
) -> None:
    """Create the ceremony-problem and complaint series at zero (authdemo.pilot.signals
    owns the fixed lists)."""
    names = list(errors)
    for ceremony in ceremonies:
        for error in names:
            CEREMONY_PROBLEMS.labels(ceremony=ceremony, error=error)
    for category in categories:
        for cohort in COHORTS:
            COMPLAINTS.labels(category=category, cohort=cohort)


def cohort_of(user_id: str | None) -> str:
    """The pilot cohort of an account, through the function the running app registered;
    "unknown" without an account or outside an app."""
    if user_id is None or not has_app_context():
        return "unknown"
    placer = current_app.extensions.get(COHORT_PLACER)
    return "unknown" if placer is None else str(placer(user_id))


def observe_ceremony_problem(ceremony: str, error: str) -> None:
    CEREMONY_PROBLEMS.labels(ceremony=ceremony, error=error).inc()


def observe_complaint(category: str, cohort: str) -> None:
    COMPLAINTS.labels(category=category, cohort=cohort).inc()


def initialise_events(events: Iterable[str]) -> None:
    """Create each audited event's series at zero; called once by authdemo.audit."""
    for event in events:
        EVENTS.labels(event=event, method="")


def observe_event(event: str, method: object, user_id: str | None = None) -> None:
    """Called from the audit trail's single call site (authdemo.audit.record). Lockouts
    and opt-outs are also counted by the account's pilot cohort (never by the account)."""
    method_label = method if isinstance(method, str) and method in METHODS else ""
    EVENTS.labels(event=event, method=method_label).inc()
    pilot = _PILOT_EVENTS.get(event)
    if pilot is not None:
        counter, kind = pilot
        counter.labels(kind=kind, cohort=cohort_of(user_id)).inc()


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
            # The account this request just signed in (Flask-Login's get_id: None when
            # nobody is signed in).
            signed_in = current_user.get_id() if outcome == "succeeded" else None
            if signed_in is not None:
                cohort = cohort_of(signed_in)
                SIGN_IN_SUCCESSES.labels(method=method, cohort=cohort).inc()
                if elapsed is not None:
                    SIGN_IN_SUCCESS_SECONDS.labels(method=method, cohort=cohort).observe(elapsed)
        return response


@dataclass(frozen=True, slots=True)
class Rollout:
    """The passkey switches as every worker will see them, and which guardrail (if any)
    paused enrolment: read from the database at scrape time (docs/rollout.md)."""

    enrolment_on: bool
    signin_on: bool
    #: Every guardrail's name -> whether it is the one that paused enrolment.
    paused_by: Mapping[str, bool]

    def families(self) -> Iterator[Metric]:
        switch = GaugeMetricFamily(
            "authdemo_passkey_switch_on",
            "Whether passkey enrolment and passkey sign-in are on (1) or off (0), start-up "
            "and runtime switches together.",
            labels=["switch"],
        )
        switch.add_metric(["enrolment"], 1.0 if self.enrolment_on else 0.0)
        switch.add_metric(["sign_in"], 1.0 if self.signin_on else 0.0)
        yield switch
        paused = GaugeMetricFamily(
            "authdemo_guardrail_paused",
            "1 for the guardrail that paused passkey enrolment (until a person resumes it), "
            "0 for the others.",
            labels=["guardrail"],
        )
        for name, by_it in self.paused_by.items():
            paused.add_metric([name], 1.0 if by_it else 0.0)
        yield paused


class _ScrapeTime(Collector):
    """Gauges read at scrape time, not counted: ``authdemo_dependency_up`` (1 or 0 per
    backing service) and, when /.well-known/security.txt is served, the moment its
    Expires field passes (``authdemo_security_txt_expiry_timestamp_seconds``)."""

    def __init__(
        self,
        checks: Mapping[str, bool],
        security_txt_expires: datetime | None,
        rollout: Rollout | None = None,
    ) -> None:
        self.checks = checks
        self.security_txt_expires = security_txt_expires
        self.rollout = rollout

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
        if self.rollout is not None:
            yield from self.rollout.families()


def exposition(
    dependencies: Mapping[str, bool],
    *,
    security_txt_expires: datetime | None,
    rollout: Rollout | None = None,
) -> Response:
    scraped = CollectorRegistry()
    scraped.register(_ScrapeTime(dependencies, security_txt_expires, rollout))
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
        data = generate_latest(scraped)
    else:
        data = generate_latest(REGISTRY) + generate_latest(scraped)
    return Response(data, mimetype=CONTENT_TYPE_LATEST)
