"""Step-up: "confirm it's you" with a passkey or password + code of this same account."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_login import current_user

from authdemo import clock, current, ways_in
from authdemo.consent import web as consent_web
from authdemo.extensions import db, limiter
from authdemo.fallback import service as fallback
from authdemo.fallback import throttle
from authdemo.fallback.service import SignInRefused
from authdemo.http import json_text, read_json_object, safe_next
from authdemo.passkeys import service as passkeys
from authdemo.passkeys.routes import CEREMONY_KEY, keeping_refusals
from authdemo.sessions import auth
from authdemo.sessions import service as sessions
from authdemo.sessions.auth import current_session, login_required

bp = Blueprint("stepup", __name__)


def _default_next() -> str:
    return url_for("main.account")


def _complete() -> None:
    """Record the fresh authentication and rotate the session token."""
    active = current_session()
    assert active is not None
    token = sessions.reauthenticated(db.session, session_id=active.id, now=clock.now())
    db.session.commit()
    auth.rotate_after_step_up(token)


@bp.get("/reauth")
@login_required
def reauth() -> str:
    methods = ways_in.methods_of(db.session, current_user.id)
    return render_template(
        "stepup/reauth.html",
        next_url=safe_next(request.args.get("next"), _default_next()),
        has_passkey=methods.passkeys > 0,
        has_password=methods.password_and_code,
    )


@bp.post("/api/reauth/options")
@login_required
@limiter.limit(lambda: current.settings().RATELIMIT_CEREMONY)
def passkey_options() -> Response:
    read_json_object()
    consent_web.require_signin()  # passkeys switched off: step up with password + code
    started = passkeys.start_step_up(
        db.session, rp=current.relying_party(), user_id=current_user.id, now=clock.now()
    )
    db.session.commit()
    cookie[CEREMONY_KEY] = started.ceremony_id
    return json_text(started.options_json)


@bp.post("/api/reauth/verify")
@login_required
@limiter.limit(lambda: current.settings().RATELIMIT_CEREMONY)
def passkey_verify() -> Response:
    body = read_json_object()
    consent_web.require_signin()
    # The page sends where to go next beside the credential; the credential alone goes on
    # to the strict WebAuthn parser, which refuses unknown members.
    next_url = body.pop("next", None)
    with keeping_refusals():
        passkeys.finish_step_up(
            db.session,
            rp=current.relying_party(),
            ceremony_id=cookie.pop(CEREMONY_KEY, None),
            payload=body,
            user_id=current_user.id,
            now=clock.now(),
        )
    _complete()
    return jsonify({"status": "ok", "redirect": safe_next(next_url, _default_next())})


@bp.post("/reauth/password")
@login_required
@throttle.guessing(throttle.signed_in_account_key)
def password() -> ResponseReturnValue:
    next_url = safe_next(request.form.get("next"), _default_next())
    try:
        fallback.step_up(
            db.session,
            current.fallback(),
            user=current_user,
            password=request.form.get("password"),
            code=request.form.get("code"),
            now=clock.now(),
        )
    except SignInRefused:
        db.session.commit()
        page = render_template(
            "stepup/reauth.html",
            next_url=next_url,
            has_passkey=ways_in.methods_of(db.session, current_user.id).passkeys > 0,
            has_password=True,
            error="The password or code is not right. Please try again.",
        )
        return page, 401
    _complete()
    return redirect(next_url)
