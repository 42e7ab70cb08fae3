"""Response headers every page gets (OWASP Secure Headers; ASVS 5.0 V3.4)."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

#: Full URLs to this site only, nothing at all to any other (W3C Referrer Policy,
#: "same-origin").
#: ``no-referrer`` would also make browsers send ``Origin: null`` on this site's own form
#: posts and fetches (Fetch standard, "append a request `Origin` header"), which the
#: origin check must refuse (authdemo/csrf.py, docs/decisions/0014).
REFERRER_POLICY = "same-origin"

PERMISSIONS_POLICY = (
    "publickey-credentials-create=(self), publickey-credentials-get=(self), "
    "camera=(), microphone=(), geolocation=(), interest-cohort=()"
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", REFERRER_POLICY)
        h.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if not request.path.startswith("/static/"):
            # Pages about a person must not be kept by shared caches or the back button.
            h.setdefault("Cache-Control", "no-store")
        return response
