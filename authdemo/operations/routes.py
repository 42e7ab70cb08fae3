"""/healthz for load balancers, /metrics for Prometheus, /.well-known/webauthn and
/.well-known/security.txt."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import UTC

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import NotFound

from authdemo import current
from authdemo.errors import Forbidden
from authdemo.extensions import csrf, db, limiter
from authdemo.operations import metrics

bp = Blueprint("operations", __name__)


def dependency_checks() -> dict[str, bool]:
    """Whether each backing service this deployment uses answers: the database always,
    Redis when configured. Only names and yes/no: nothing about versions, addresses or
    settings, and never an error message (it could carry a host name or a password)."""
    checks: dict[str, bool] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        db.session.rollback()
        checks["database"] = False
    client = current.redis_client()
    if client is not None:
        try:
            client.ping()
            checks["redis"] = True
        except Exception:  # noqa: BLE001
            checks["redis"] = False
    return checks


@bp.get("/healthz")
@limiter.exempt
def health() -> tuple[Response, int]:
    """For load balancers: ``ok`` or ``failing``, overall and per dependency; 503 when
    one is failing. Nothing about configuration (tests/functional/test_operations.py)."""
    checks = dependency_checks()
    healthy = all(checks.values())
    body = {name: "ok" if ok else "failing" for name, ok in checks.items()}
    return jsonify({"status": "ok" if healthy else "failing", **body}), 200 if healthy else 503


@bp.get("/metrics")
@limiter.exempt
def prometheus() -> Response:
    token = current.settings().METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Forbidden()
    elif not _is_loopback(request.remote_addr):
        raise Forbidden()
    settings = current.settings()
    expires = settings.security_txt_expires if settings.security_contacts else None
    checks = dependency_checks()
    rollout = _rollout() if checks["database"] else None
    return metrics.exposition(checks, security_txt_expires=expires, rollout=rollout)


def _rollout() -> metrics.Rollout | None:
    """The passkey switches and the guardrail that paused enrolment, read now (not from a
    worker's cache); None when the database cannot say (AuthdemoDependencyDown covers it)."""
    from authdemo.pilot import guardrails, switches

    try:
        with db.session.begin_nested():
            state = switches.read(db.session)
            by = guardrails.paused_by(db.session)
    except DBAPIError:
        return None
    enrolment, signin = state.effective(current.settings())
    names = {str(name): name == by for name in guardrails.Name}
    return metrics.Rollout(enrolment_on=enrolment, signin_on=signin, paused_by=names)


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@bp.get("/.well-known/webauthn")
def related_origins() -> tuple[Response, int]:
    """WebAuthn L3 §5.11 Related Origin Requests: the origins that may use this RP ID."""
    origins = current.settings().related_origins
    if not origins:
        return jsonify({"origins": []}), 404
    return jsonify({"origins": [current.settings().ORIGIN, *origins]}), 200


csrf.exempt(bp)


@bp.get("/.well-known/security.txt")
def security_txt() -> Response:
    """RFC 9116: where to report a vulnerability in this deployment. Contact (§2.5.3, one
    line each, most preferred first) and Expires (§2.5.5, once) are required; Canonical
    (§2.5.2) says where the file belongs. Served as text/plain; charset=utf-8 (§3). Without
    a configured contact there is no file: an invented address would be worse than none."""
    s = current.settings()
    expires = s.security_txt_expires
    if not s.security_contacts or expires is None:
        raise NotFound()
    lines = [f"Contact: {contact}" for contact in s.security_contacts]
    lines.append(f"Expires: {expires.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append(f"Canonical: {s.ORIGIN}/.well-known/security.txt")
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
