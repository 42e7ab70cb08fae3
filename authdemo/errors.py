"""Typed domain errors, mapped once to RFC 9457 problem+json (JSON) or a friendly page (HTML).

Messages are generic on purpose: no error tells a caller whether an account exists
(OWASP ASVS 5.0 V6.3.8; Authentication Cheat Sheet, "Authentication and Error Messages").
The one passkey refusal with its own message, ``PasskeyNotLinked``, is about a passkey the
site does not know, never about an account.

Titles are ``lazy_gettext``: each is translated when the answer is made, into the
request's language (authdemo/i18n.py), and the answer says which (``Content-Language``).
A ``detail`` passed when raising is translated by the caller (``gettext``).
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://authdemo.example/problems/"


def backing_service_error_types(*, redis: bool) -> tuple[type[Exception], ...]:
    """What an unreachable database or rate-limit store raises. Redis's errors only when
    the app uses Redis: importing the client costs every worker about 6 MB of memory."""
    from limits.errors import StorageError

    types: list[type[Exception]] = [StorageError, OperationalError]
    if redis:
        from redis.exceptions import RedisError

        types.append(RedisError)
    return tuple(types)


class AuthDemoError(Exception):
    """Base of every error a client can cause. Subclasses set status, slug and title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = lazy_gettext("The request could not be processed.")

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions


class InvalidInput(AuthDemoError):
    slug = "invalid-input"
    title = lazy_gettext("Some of the information sent was not valid.")

    def __init__(self, detail: str | None = None, *, field: str | None = None, **ext: Any):
        super().__init__(detail, **ext)
        self.field = field


class CeremonyFailed(AuthDemoError):
    """A passkey response was refused. One message for every reason (the reason is audited)."""

    slug = "passkey-not-accepted"
    title = lazy_gettext("We couldn't verify that passkey. Please try again.")

    def __init__(self, reason: str, **extensions: Any) -> None:
        super().__init__(None, **extensions)
        #: Internal reason code, for the audit trail and tests; never sent to the client.
        self.reason = reason


class PasskeyNotLinked(CeremonyFailed):
    """A passkey still on the device that no account here has any more (removed from the
    account, or the account deleted). Retrying can never work, so it is said plainly, with
    the other ways in (issue 17 item 3). It names no account and says nothing a caller did
    not know: the response to an unknown passkey already carried the Signal API hint
    (``signal``) that tells the browser to forget it; no username is involved, and the
    credential id is random (decision 0002)."""

    slug = "passkey-not-linked"
    title = lazy_gettext(
        "This passkey is no longer linked to an account here: it may have been removed, "
        "or the account deleted. Please sign in another way: with your password and "
        "one-time code, a recovery code, or another passkey."
    )


class UsernameTaken(AuthDemoError):
    status = 409
    slug = "username-taken"
    title = lazy_gettext("That username is taken. Please choose another.")


class SignUpAlreadyFinished(AuthDemoError):
    """The account id this sign-up was started with (authdemo/signup/pending.py) belongs to
    an account already: an older copy of this browser's sign-up cookie, sent again after
    the account it created was renamed. Only the browser that made that account holds the
    id, so saying so tells nobody else anything."""

    status = 409
    slug = "sign-up-already-finished"
    title = lazy_gettext(
        "This sign-up was already finished. Please sign in, or choose a username again."
    )


class NotSignedIn(AuthDemoError):
    status = 401
    slug = "not-signed-in"
    title = lazy_gettext("Please sign in to continue.")


class Forbidden(AuthDemoError):
    status = 403
    slug = "forbidden"
    title = lazy_gettext("You can't do that from this session.")


class RestrictedSession(AuthDemoError):
    status = 403
    slug = "restricted-session"
    title = lazy_gettext(
        "You signed in with a recovery code. Please set up a new way to sign in first."
    )


class StepUpRequired(AuthDemoError):
    status = 401
    slug = "step-up-required"
    title = lazy_gettext("Please confirm it's you to continue.")


class FeatureDisabled(AuthDemoError):
    status = 403
    slug = "feature-disabled"
    title = lazy_gettext("This way of signing in is switched off here.")


class ServiceUnavailable(AuthDemoError):
    status = 503
    slug = "service-unavailable"
    title = lazy_gettext("The service is briefly unavailable. Please try again in a moment.")


def wants_json() -> bool:
    """JSON clients: the /api/ endpoints, or anyone who prefers JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > 0


def problem_response(
    status: int, slug: str, title: str, detail: str, **extensions: Any
) -> tuple[Response, int]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": str(title),
        "status": status,
        "detail": str(detail),
        **extensions,
    }
    response = jsonify(body)
    response.mimetype = "application/problem+json"
    return response, status


def _respond(
    status: int, slug: str, title: str, detail: str, **extensions: Any
) -> tuple[Response | str, int]:
    if wants_json():
        return problem_response(status, slug, title, detail, **extensions)
    page = render_template("error.html", status=status, title=title, detail=detail)
    return page, status


def register_error_handlers(app: Flask) -> None:
    backing_service_errors = backing_service_error_types(
        redis=app.extensions["authdemo.settings"].uses_redis
    )

    @app.errorhandler(AuthDemoError)
    def _domain_error(error: AuthDemoError) -> tuple[Response | str, int]:
        extensions = dict(error.extensions)
        if isinstance(error, InvalidInput) and error.field:
            extensions["field"] = error.field
        return _respond(error.status, error.slug, error.title, error.detail, **extensions)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        return _respond(
            400,
            "csrf-failed",
            _("This form has expired."),
            _("Please reload the page and try again."),
        )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Response:
        from authdemo.operations.metrics import observe_throttled

        observe_throttled()
        body, status = _respond(
            429,
            "too-many-requests",
            _("Too many attempts."),
            _("Please wait a little before trying again."),
        )
        response = app.make_response((body, status))
        # Seconds until the limit that was hit lets the next attempt through.
        from authdemo.extensions import limiter

        current_limit = limiter.current_limit
        wait = int(current_limit.reset_at - time.time()) if current_limit else 60
        response.headers["Retry-After"] = str(max(1, wait))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | tuple[Response | str, int]:
        original = getattr(error, "original_exception", None)
        if isinstance(original, backing_service_errors):
            # Raised outside a view (e.g. the limiter counting a failure after the
            # response): still the backing service, still a 503.
            return _backing_service_down(original)
        if isinstance(original, Exception) and not isinstance(original, HTTPException):
            return _unexpected(original)
        status = error.code or 500
        # Werkzeug's own names ("Range Not Satisfiable", "Request Header Fields Too Large")
        # are English: any status without words of its own gets the general ones, which are
        # translated like every other answer.
        general = (
            _("The request could not be processed.")
            if status < 500
            else _("Something went wrong on our side.")
        )
        title = {
            400: _("The request could not be processed."),
            404: _("We couldn't find that page."),
            405: _("That action isn't allowed here."),
            413: _("The request was too large."),
            415: _("That kind of content isn't accepted here."),
        }.get(status, general)
        slug = (error.name or "error").lower().replace(" ", "-")
        response = app.make_response(_respond(status, slug, title, title))
        # Keep the headers the exception carries about itself, e.g. Allow on a 405
        # (RFC 9110 §15.5.6: a 405 MUST say which methods the resource supports).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if status == 413:
            # The body was refused unread: what follows it on the connection is not the
            # start of the next request, so the connection ends with this answer (RFC 9110
            # §15.5.14: the server MAY close the connection to prevent the client sending).
            response.headers["Connection"] = "close"
        return response

    def _backing_service_down(error: Exception) -> tuple[Response | str, int]:
        # Fail closed: if the rate-limit store (Redis) is unreachable, refuse rather than
        # let attempts through unlimited.
        orig = getattr(error, "orig", None)  # the driver's own error inside SQLAlchemy's
        log.error("backing service unavailable: %s", type(orig or error).__name__)
        title = ServiceUnavailable.title
        return _respond(503, ServiceUnavailable.slug, title, title)

    for error_type in backing_service_errors:
        app.register_error_handler(error_type, _backing_service_down)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        # A bug, not a client error: log the type (never the request body) and apologise.
        log.exception("unhandled error: %s", type(error).__name__)
        return _respond(
            500,
            "internal-error",
            _("Something went wrong on our side."),
            _("Nothing was changed. Please try again later."),
        )
