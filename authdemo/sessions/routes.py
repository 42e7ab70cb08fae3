"""Sign-in page, sign-out, and keeping an active person's session alive."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import clock
from authdemo.extensions import db
from authdemo.http import safe_next
from authdemo.sessions import auth, service
from authdemo.sessions import wiring as session_wiring

bp = Blueprint("sessions", __name__)


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
        service.touch(db.session, active, now=clock.now(), policy=session_wiring.session_policy())
        db.session.commit()
