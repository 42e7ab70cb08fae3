"""Sign-in page and sign-out."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo.http import safe_next
from authdemo.sessions import auth

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
    if current_user.is_authenticated:
        auth.end_current_session()
    return redirect(url_for("sessions.signin", signed_out=1))
