"""authdemo: privacy-by-design passkey sign-in for Flask.

``create_app`` wires configuration, extensions, blueprints, hooks, error handlers and
commands. It does no database I/O: what must be written once per deployment (the
kill-switch state in the audit trail) is a CLI step, ``flask passkeys record-switches``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from authdemo.clock import Clock, SystemClock
from authdemo.config import flask_config, load_settings
from authdemo.logging_setup import configure_logging

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` bounded to a signed 64-bit integer, the widest id a database holds."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def instance_folder() -> str:
    """Where development keeps its generated secrets and SQLite file (AUTHDEMO_INSTANCE_PATH
    moves it)."""
    return os.environ.get("AUTHDEMO_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def create_app(config: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the app. ``config`` overrides ``AUTHDEMO_*`` environment settings (tests)."""
    app = Flask(
        __name__,
        instance_path=instance_folder(),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    settings = load_settings(config, instance_path=app.instance_path)
    app.config.update(flask_config(settings))
    app.extensions["authdemo.settings"] = settings
    app.extensions["authdemo.clock"] = clock or SystemClock()
    configure_logging(app, settings)

    # Integer URL parts that fit a database integer: a larger one is a 404, not a 500.
    app.url_map.converters["int"] = DatabaseIntConverter
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext
    from werkzeug.middleware.proxy_fix import ProxyFix

    from authdemo import i18n
    from authdemo.csrf import ForeignRequestsKeepTheCookie
    from authdemo.extensions import csrf, db, limiter, login_manager
    from authdemo.operations.metrics import register_request_timing
    from authdemo.security_headers import register_security_headers

    settings = app.extensions["authdemo.settings"]
    db.init_app(app, settings.DATABASE_URL, sqlite_synchronous=settings.SQLITE_SYNCHRONOUS)
    csrf.init_app(app)
    i18n.init_app(app, settings)
    app.session_interface = ForeignRequestsKeepTheCookie()
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "sessions.signin"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    # Server-side session records replace Flask-Login's IP/user-agent fingerprinting.
    login_manager.session_protection = None

    register_security_headers(app)
    register_request_timing(app)
    if settings.PROXY_HOPS:
        # Trust X-Forwarded-For/-Proto/-Host from exactly this many proxies in front.
        hops = settings.PROXY_HOPS
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        return {"settings": settings}


def register_blueprints(app: Flask) -> None:
    from authdemo.account.routes import bp as account_bp
    from authdemo.compliance.routes import bp as compliance_bp
    from authdemo.consent.routes import bp as consent_bp
    from authdemo.fallback.routes import bp as fallback_bp
    from authdemo.main.routes import bp as main_bp
    from authdemo.openapi import bp as openapi_bp
    from authdemo.operations.routes import bp as operations_bp
    from authdemo.passkeys.routes import bp as passkeys_bp
    from authdemo.pilot.routes import bp as pilot_bp
    from authdemo.privacy.routes import bp as privacy_bp
    from authdemo.receipts.routes import bp as receipts_bp
    from authdemo.sessions.routes import bp as sessions_bp
    from authdemo.signup.routes import bp as signup_bp
    from authdemo.stepup.routes import bp as stepup_bp

    for bp in (
        main_bp,
        signup_bp,
        sessions_bp,
        passkeys_bp,
        fallback_bp,
        stepup_bp,
        consent_bp,
        receipts_bp,
        account_bp,
        privacy_bp,
        operations_bp,
        pilot_bp,
        compliance_bp,
        openapi_bp,
    ):
        app.register_blueprint(bp)


def register_hooks(app: Flask) -> None:
    """Every hook in one place, so what runs around a request is visible here."""
    from flask_login import user_logged_in

    from authdemo import i18n
    from authdemo.consent.routes import on_sign_in
    from authdemo.extensions import limiter, login_manager
    from authdemo.operations import metrics
    from authdemo.pilot import web as pilot_web
    from authdemo.ratelimit import check_limits_in_views_only
    from authdemo.sessions import auth
    from authdemo.sessions.routes import keep_session_alive, session_timeout, typed_data

    login_manager.user_loader(auth.load_user)
    # The header's state (signed out, signed in, restricted), once per page.
    app.context_processor(lambda: {"header": auth.header()})
    # The time-out warning's data on signed-in pages (base.html calls it).
    app.context_processor(lambda: {"session_timeout": session_timeout, "typed_data": typed_data})
    login_manager.unauthorized_handler(auth.unauthorized)
    app.before_request(keep_session_alive)
    # Sent by Flask-Login for every way of signing in; only this app's sign-ins.
    user_logged_in.connect(on_sign_in, app)
    # ...and the account's stored language applies from the sign-in on (authdemo.i18n).
    user_logged_in.connect(i18n.on_sign_in, app)
    # /metrics counts sign-ins, lockouts and opt-outs by pilot cohort (never by account).
    app.extensions[metrics.COHORT_PLACER] = pilot_web.cohort_of_account
    # Every rate limit is on its view (checked by its decorator): no second, empty check.
    check_limits_in_views_only(app, limiter)


def register_error_handlers(app: Flask) -> None:
    from authdemo.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from authdemo.cli import register_commands as register
    from authdemo.compliance.cli import register_commands as register_compliance
    from authdemo.consent.cli import register_commands as register_consent
    from authdemo.fallback.cli import register_commands as register_keys
    from authdemo.pilot.cli import register_commands as register_rollout
    from authdemo.privacy.cli import register_commands as register_privacy

    register(app)
    register_keys(app)
    register_privacy(app)
    register_compliance(app)
    register_consent(app)
    register_rollout(app)
