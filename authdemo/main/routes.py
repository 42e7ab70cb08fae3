"""Home and account pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from authdemo.extensions import db
from authdemo.models import Passkey
from authdemo.sessions.auth import login_required

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    return render_template("index.html")


@bp.get("/account")
@login_required
def account() -> str:
    passkeys = db.session.scalars(
        select(Passkey).where(Passkey.user_id == current_user.id).order_by(Passkey.created_at)
    ).all()
    return render_template("account.html", user=current_user, passkeys=passkeys)
