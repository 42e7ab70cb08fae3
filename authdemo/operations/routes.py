"""/healthz for load balancers, /metrics for Prometheus, /.well-known/webauthn."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import text

from authdemo import current
from authdemo.errors import Forbidden
from authdemo.extensions import csrf, db, limiter
from authdemo.operations import metrics

bp = Blueprint("operations", __name__)


@bp.get("/healthz")
@limiter.exempt
def health() -> tuple[Response, int]:
    """Reachability of the database and (when configured) Redis. No personal data."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        checks["database"] = "unreachable"
    client = current.redis_client()
    if client is None:
        checks["redis"] = "not configured"
    else:
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unreachable"
    healthy = all(v in {"ok", "not configured"} for v in checks.values())
    return jsonify({"status": "ok" if healthy else "unavailable", **checks}), (
        200 if healthy else 503
    )


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
    return metrics.exposition()


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
