"""Home and account pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import ways_in
from authdemo.account.routes import recent_activity, render_account_page
from authdemo.extensions import db
from authdemo.sessions.auth import login_required

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    return render_template("index.html")


@bp.get("/account")
@login_required
def account() -> str | tuple[str, int]:
    """The account overview: what the person has set up, where to manage it, and what
    happened lately (security notices)."""
    methods = ways_in.methods_of(db.session, current_user.id)
    return render_account_page(
        "account.html",
        passkey_count=methods.passkeys,
        has_password=methods.password_and_code,
        activity=recent_activity(),
    )
