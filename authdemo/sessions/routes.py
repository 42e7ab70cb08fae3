"""Sign-in page, sign-out, and keeping an active person's session alive."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import clock, current
from authdemo.extensions import db, limiter
from authdemo.fallback import script_messages as fallback_script_messages
from authdemo.http import read_json_object, safe_next
from authdemo.passkeys.script_messages import CEREMONY_MESSAGES
from authdemo.sessions import auth, service
from authdemo.sessions import wiring as session_wiring

bp = Blueprint("sessions", __name__)

#: What static/js/signin.js says besides a passkey ceremony's own messages.
SIGN_IN_MESSAGES: dict[str, LazyString] = {
    "passkeysUnsupported": lazy_gettext(
        "This browser can't use passkeys. Please use another way to sign in."
    ),
    "signedIn": lazy_gettext("Signed in. Taking you to your account…"),
}


@bp.app_template_global()
def sign_in_messages() -> dict[str, LazyString]:
    """For signin.html's ``page_data``: what its scripts may say (signin.js with
    webauthn.js, and password-fields.js)."""
    return {
        **CEREMONY_MESSAGES,
        **SIGN_IN_MESSAGES,
        **fallback_script_messages.of("password-fields"),
    }


@bp.get("/signin")
def signin() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    next_url = request.args.get("next")
    if next_url:
        cookie["next"] = safe_next(next_url, url_for("main.account"))
    return render_template("signin.html")


@bp.post("/signout")
def signout() -> Response:
    active = auth.current_session() if current_user.is_authenticated else None
    if active is not None:
        service.sign_out(db.session, active, now=clock.now())
        db.session.commit()
        auth.forget()
    return redirect(url_for("sessions.signin", signed_out=1))


def keep_session_alive() -> None:
    """Before each request of a signed-in person: slide the session's idle expiry, at most
    once a minute, in a transaction of its own that commits before the request's use case
    starts (so it can never carry that use case's writes). Registered in ``create_app``."""
    if request.endpoint == "static" or auth.TOKEN_KEY not in cookie:
        return
    if not current_user.is_authenticated:
        return
    active = auth.current_session()
    if active is not None and active.touch_due:
        policy = session_wiring.session_policy()
        g.auth_session = service.touch(db.session, active, now=clock.now(), policy=policy)
        db.session.commit()


def _keep_alive_limit() -> str:
    # Per client address, as the ceremonies: the page calls it once per warning.
    return current.settings().RATELIMIT_CEREMONY


@bp.post("/api/session/keep-alive")
@limiter.limit(_keep_alive_limit)
@auth.login_required
@auth.allow_restricted
def keep_alive() -> Response:
    """The page's "Stay signed in" (WCAG 2.2.1): the request itself is the activity that
    ``keep_session_alive`` slides the idle expiry for; this answers how long is left."""
    read_json_object()  # ``{}``: nothing to read, but anything else is a clear 4xx
    active = auth.current_session()
    assert active is not None  # login_required
    return jsonify(_time_left_data(active))


def session_timeout() -> dict[str, Any] | None:
    """Template global: what the time-out warning (static/js/session-timeout.js) needs on
    a signed-in page, or None. Registered in ``create_app``."""
    active = auth.current_session() if current_user.is_authenticated else None
    if active is None:
        return None
    return {
        **_time_left_data(active),
        "keepAliveUrl": url_for("sessions.keep_alive"),
        "signInUrl": url_for("sessions.signin", next=request.path),
    }


def _time_left_data(active: service.ActiveSession) -> dict[str, Any]:
    left = service.time_left(active, now=clock.now())
    return {"secondsLeft": left.seconds, "extendable": left.extendable}


#: Pages on the way back in (signing in again, confirming it's you): what a form on the
#: page before had typed stays in the tab's storage until the page after.
_ON_THE_WAY_BACK_IN = frozenset(
    {
        "sessions.signin",
        "fallback.signin_password",
        "fallback.signin_recovery",
        "fallback.lost_passkey",
        "stepup.reauth",
        "stepup.reauth_password",
    }
)


def typed_data() -> dict[str, bool | str]:
    """Template global for static/js/keep-typed.js (WCAG 2.2.5): ``hold`` on the pages on
    the way back in; ``restore`` on the first page after a sign-in or a step-up, where a
    form the person had filled in is filled in again; ``owner``: whose typing this page
    keeps and may fill in (a keyed hash of the signed-in account, so one person's text is
    never filled into another's form in a shared browser). Registered in ``create_app``."""
    return {
        "hold": request.endpoint in _ON_THE_WAY_BACK_IN,
        "restore": bool(cookie.pop(auth.TYPED_MAY_RETURN, False)),
        "owner": _typed_owner(),
        "message": _("We kept what you typed before you signed in again. Check it and send it."),
    }


def _typed_owner() -> str:
    if not current_user.is_authenticated:
        return ""
    tag = current.keyed_hash(TYPED_OWNER_PURPOSE).digest(str(current_user.id).encode())
    return tag.hex()[:32]


#: Key-derivation purpose of the ``owner`` tag of kept typing.
TYPED_OWNER_PURPOSE = "kept-typing-owner"
